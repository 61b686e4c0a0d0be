"""e-Cabinet: meetings, opinion ballots, signed votes and resolutions for a collective body."""
__version__ = "0.1.0"
