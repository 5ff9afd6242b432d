"""People: admins, marketers, reps and booth staff."""
