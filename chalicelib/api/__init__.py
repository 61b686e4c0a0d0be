"""HTTP entry points: one blueprint per feature, each handler parses, authorises through a service, and shapes the answer."""
