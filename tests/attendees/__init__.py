"""Attendee lists: import, sync to tablets, offline look-up, late fill, erasure."""
