"""The model page (/models/) and topic review (/models/topics/)."""
