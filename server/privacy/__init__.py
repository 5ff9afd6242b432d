"""Data protection: a person's rights (find, export, erase), retention, audit, log scrubbing."""
