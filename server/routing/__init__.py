"""Route each new lead to the right sales rep by the event's ordered rules."""
