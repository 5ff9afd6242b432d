"""The card-reading job: OCR a received photo and keep what it read as suggestions.

It runs as an outbox job of its own kind (AlertKind.CARD_READING), so the in-process
dispatcher or the RQ workers run it with the alerts' leases, retries and dead letters.
It never writes to the lead: staff accept suggestions field by field (suggestions.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from server.alerts.channels import DeliveryError
from server.alerts.models import AlertJob
from server.attachments.models import CardPhoto
from server.attachments.storage import storage
from server.extensions import db
from server.versioning import next_server_version
from sync import card_ocr
from sync.card_fields import extract_fields


def read_photo(job: AlertJob) -> None:
    """Read the job's photo and store its suggestions with a new server version."""
    photo = db.session.get(CardPhoto, int(job.target))
    if photo is None or not photo.complete or photo.read_at is not None:
        return  # erased since, or read already: nothing is owed
    try:
        image = storage().read(photo.sha256)
    except FileNotFoundError:
        raise DeliveryError("card reading: photo bytes missing", retryable=False) from None
    try:
        lines = card_ocr.read_lines(image)
    except card_ocr.OcrUnavailable:
        raise DeliveryError("card reading: no OCR engine installed", retryable=False) from None
    photo.suggestions = extract_fields(lines, job.lead.event.country)
    photo.read_at = datetime.now(UTC)
    photo.server_version = next_server_version()
