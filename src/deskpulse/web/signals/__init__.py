"""Friction signals: where the system is creaking, by queue, inquiry and channel (seed 004)."""
