"""A/B experiments: definitions in the app database, results from the event store."""
