"""The server side of tablet sync: push, pull and status under /api/v1/sync/."""
