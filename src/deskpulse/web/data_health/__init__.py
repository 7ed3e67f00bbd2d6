"""Data health: rejected events, quarantined conversations and retractions (owners, admins)."""
