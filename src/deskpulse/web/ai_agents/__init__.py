"""The AI agent pages (/ai-agents/), the quality report and its targets (seed 003)."""
