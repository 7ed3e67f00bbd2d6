"""Trained models: inquiry classification, topic discovery, and the predicted satisfaction
and resolution behind the Agent Effectiveness Score."""
