"""insert_rows stores exactly what SQLAlchemy's executemany of the same rows stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import Flask

from server.bulk_insert import _plan, insert_rows
from server.extensions import db
from server.leads.models import Activity, ActivityKind
from tests.helpers import ApiHelper, Booth

_ACTIVITIES = Activity.__table__


def _rows(lead_id: uuid.UUID, marker: str) -> list[dict[str, object]]:
    """Rows of every kind of value the push writes: UUIDs, enums, aware times, JSON, NULLs."""
    berlin = timezone(timedelta(hours=1))
    return [
        {
            "lead_id": lead_id,
            "kind": ActivityKind.SCORED,
            "at": datetime(2026, 12, 4, 10, 15, 7, 120, tzinfo=berlin),
            "actor_user_id": None,
            "actor_device_id": None,
            "detail": {"marker": marker, "points": 40, "reasons": ["Budget: yes"], "x": None},
        },
        {
            "lead_id": lead_id,
            "kind": ActivityKind.ROUTED,
            "at": datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
            "actor_user_id": None,
            "actor_device_id": None,
            "detail": {"marker": marker, "rule": "territory", "to_owner_id": None},
        },
    ]


def _stored(marker: str) -> list[tuple[object, ...]]:
    """Return the activities of marker as the database holds them (text, on SQLite)."""
    detail = sa.cast(_ACTIVITIES.c.detail, sa.String)
    query = (
        sa.select(
            sa.cast(_ACTIVITIES.c.lead_id, sa.String),
            _ACTIVITIES.c.kind,
            sa.cast(_ACTIVITIES.c.at, sa.String),
            _ACTIVITIES.c.actor_user_id,
            _ACTIVITIES.c.actor_device_id,
            detail,
        )
        .where(detail.like(f"%{marker}%"))
        .order_by(_ACTIVITIES.c.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def test_rows_are_stored_as_sqlalchemys_executemany_stores_them(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    lead_id = uuid.UUID(api.capture(booth.tablet, booth.staff)["id"])
    with app.app_context():
        insert_rows(_ACTIVITIES, _rows(lead_id, "through-insert-rows"))
        db.session.execute(sa.insert(_ACTIVITIES), _rows(lead_id, "through-sqlalchemy"))
        db.session.commit()
        ours, theirs = _stored("through-insert-rows"), _stored("through-sqlalchemy")
        written = [row[:5] for row in ours], [row[:5] for row in theirs]
        details = [row[5].replace("through-insert-rows", "M") for row in ours]
        assert len(ours) == 2
        assert written[0] == written[1]
        assert details == [row[5].replace("through-sqlalchemy", "M") for row in theirs]
        read = db.session.scalars(
            sa.select(Activity).where(Activity.lead_id == lead_id, Activity.kind == "scored")
        ).all()
        marked = {activity.at for activity in read if "marker" in activity.detail}
        assert marked == {datetime(2026, 12, 4, 9, 15, 7, 120, UTC)}


def test_a_column_default_made_in_python_is_filled_in_as_by_sqlalchemy(app: Flask) -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "bulk_insert_defaults",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(20)),
        sa.Column("made", sa.String(20), default=lambda: "by default"),
    )
    with app.app_context():
        metadata.create_all(db.engine)
        try:
            dialect = db.session.connection().dialect
            assert _plan(table, dialect, ("name",)) is None  # not written by the cursor
            insert_rows(table, [{"name": "first"}, {"name": "second"}])
            db.session.commit()
            stored = db.session.execute(sa.select(table.c.name, table.c.made)).all()
            assert sorted(stored) == [("first", "by default"), ("second", "by default")]
        finally:
            db.session.rollback()
            metadata.drop_all(db.engine)


def test_an_empty_batch_sends_nothing(app: Flask) -> None:
    sent: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
        try:
            insert_rows(_ACTIVITIES, [])
        finally:
            db.session.rollback()
    assert sent == []
