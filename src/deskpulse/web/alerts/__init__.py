"""Alerts in the web app: regression alert rules, their state, history and delivery."""
