"""Coaching plans: the wizard, the stored plans with their progress, and the coach's view."""
