"""Attendee lists per event: imported from the organiser's export, pulled by tablets."""
