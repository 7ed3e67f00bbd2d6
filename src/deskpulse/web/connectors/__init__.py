"""Helpdesk connectors that push to deskpulse (webhooks), and their secrets."""
