"""The agent performance pages (/performance/…): the Agent Effectiveness Score by inquiry."""
