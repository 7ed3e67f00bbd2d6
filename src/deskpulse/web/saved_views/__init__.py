"""Saved views: a person's named filters and period of a page, opened again from a menu."""
