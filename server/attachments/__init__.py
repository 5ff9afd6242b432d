"""Card photos attached to leads: resumable uploads, their storage, OCR and its suggestions."""
