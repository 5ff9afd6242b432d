"""Per-event figures for the dashboard and the stats API, computed with SQL aggregates."""
