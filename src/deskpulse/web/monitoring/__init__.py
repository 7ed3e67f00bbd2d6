"""Regression monitoring in the web app: alert rules, their state, history and delivery."""
