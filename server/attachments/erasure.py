"""Delete card photo bytes with the leads they belong to, once the deletion is committed.

The rows go with the lead in the erasure's transaction (server/privacy/rows.py finds them by
their foreign key); the bytes can only go after it commits, or a rolled-back erasure would
leave rows naming missing files. A blob that another lead's photo also names stays.
"""

from __future__ import annotations

import uuid

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.attachments.models import CardPhoto
from server.attachments.storage import storage
from server.extensions import db

_DOOMED = "leadbridge_doomed_photos"


def forget_photos(lead_ids: list[uuid.UUID]) -> None:
    """Mark the photos of lead_ids for deletion from storage after this transaction commits."""
    rows = db.session.execute(
        select(CardPhoto.id, CardPhoto.sha256).where(CardPhoto.lead_id.in_(lead_ids))
    ).all()
    shared = set(
        db.session.scalars(
            select(CardPhoto.sha256).where(
                CardPhoto.sha256.in_({sha for _, sha in rows}), CardPhoto.lead_id.not_in(lead_ids)
            )
        )
    )
    db.session.info.setdefault(_DOOMED, []).extend(
        (str(photo_id), None if sha in shared else sha) for photo_id, sha in rows
    )


@event.listens_for(Session, "after_commit")
def _delete_blobs(session: Session) -> None:
    doomed = session.info.pop(_DOOMED, None)
    if not doomed or not has_app_context() or "leadbridge_blobs" not in current_app.extensions:
        return
    blobs = storage()
    for upload, sha256 in doomed:
        blobs.discard(upload)
        if sha256 is not None:
            blobs.delete(sha256)


@event.listens_for(Session, "after_rollback")
def _keep_blobs(session: Session) -> None:
    session.info.pop(_DOOMED, None)
