"""An event's leads as CSV or XLSX, streamed so a large event never sits in memory."""
