"""Alerts to sales reps: rendering, channels, outbox and dispatch."""
