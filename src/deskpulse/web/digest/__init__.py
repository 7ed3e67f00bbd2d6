"""The weekly digest: each person's choices, the send ledger, the settings page."""
