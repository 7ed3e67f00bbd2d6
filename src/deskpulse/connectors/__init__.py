"""Connectors: turning other systems' exports into contract events."""
