"""The pure domain: entities, state machines, decision rules and errors; it imports no AWS or web framework."""
