"""One-click acknowledgement from the signed link in an alert."""
