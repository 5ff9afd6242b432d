"""Server versions: provisional while a transaction works, real and ordered at commit.

server/versioning.py keeps the counter's lock to the commit, so writers do not queue
behind each other's work; server/leads/merging.py locks the people a push looks up, so
two tablets pushing one person at once still merge.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from server.events.models import Event
from server.extensions import db
from server.leads.models import Lead
from server.privacy.models import LeadTombstone
from server.sync.models import MutationReceipt
from server.versioning import PROVISIONAL_BASE, next_server_version, reserve_server_versions
from tests.dbfaults import POISON, notes_refused_by_the_database
from tests.helpers import ApiHelper, Booth, create_mutation


def _versions(app: Flask, *lead_ids: str) -> list[int]:
    with app.app_context():
        return [db.session.get_one(Lead, uuid.UUID(lead_id)).server_version for lead_id in lead_ids]


def _no_provisional_version_stored(app: Flask) -> None:
    with app.app_context():
        for model in (Lead, Event, LeadTombstone):
            highest = db.session.scalar(sa.select(sa.func.max(model.server_version)))
            assert highest is None or highest < PROVISIONAL_BASE, model
        for field_versions in db.session.scalars(sa.select(Lead.field_versions)):
            for version, _editor in (field_versions or {}).values():
                assert version < PROVISIONAL_BASE


def test_versions_taken_in_a_transaction_are_consecutive_and_in_order(
    app: Flask, api: ApiHelper, booth: Booth
) -> None:
    first, second = (api.capture(booth.tablet, booth.staff)["id"] for _ in range(2))
    with app.app_context():
        leads = [db.session.get_one(Lead, uuid.UUID(lead_id)) for lead_id in (first, second)]
        block = reserve_server_versions(2)
        leads[1].server_version = block
        leads[0].server_version = block + 1
        leads[0].field_versions = {"notes": [block + 1, None]}
        db.session.commit()
    later, earlier = _versions(app, first, second)
    assert later == earlier + 1
    with app.app_context():
        stored = db.session.get_one(Lead, uuid.UUID(first))
        assert stored.field_versions == {"notes": [later, None]}
        counter = db.session.scalar(sa.text("SELECT value FROM counters"))
    assert counter == later
    _no_provisional_version_stored(app)


def test_a_push_answers_the_real_versions_it_stored(app: Flask, booth: Booth, client: Any) -> None:
    mutations = [create_mutation(i, booth.staff.id) for i in (1, 2)]
    mutations.append(
        {
            "mutation_id": 3,
            "kind": "update",
            "lead_id": mutations[0]["lead_id"],
            "base_version": 0,
            "fields": {"notes": "Changed in the same batch"},
        }
    )
    answer = client.post(
        "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
    )
    assert answer.status_code == 200, answer.json
    answered = {r["mutation_id"]: r["server_version"] for r in answer.json["results"]}
    stored = _versions(app, mutations[0]["lead_id"], mutations[1]["lead_id"])
    assert answered[3] == stored[0] and answered[2] == stored[1]
    assert all(0 < version < PROVISIONAL_BASE for version in answered.values())
    _no_provisional_version_stored(app)


def test_a_rolled_back_transaction_leaves_no_versions_behind(app: Flask) -> None:
    with app.app_context():
        before = db.session.scalar(sa.text("SELECT value FROM counters"))
        next_server_version()
        db.session.rollback()
        db.session.commit()
        assert db.session.scalar(sa.text("SELECT value FROM counters")) == before


@pytest.fixture
def postgresql_only(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite runs one writing transaction at a time; this is about PostgreSQL")


@pytest.mark.usefixtures("postgresql_only")
def test_a_writer_still_working_does_not_hold_up_another(
    app: Flask, api: ApiHelper, booth: Booth, live_server: str
) -> None:
    slow_id, quick_id = (api.capture(booth.tablet, booth.staff)["id"] for _ in range(2))
    working, finish = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with app.app_context():
            lead = db.session.get_one(Lead, uuid.UUID(slow_id))
            lead.notes = "A long edit"
            lead.server_version = next_server_version()
            db.session.flush()
            working.set()
            finish.wait(timeout=30)
            db.session.commit()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert working.wait(timeout=10)
        # Before: the slow writer held the counter from its first version to its commit.
        quick = requests.patch(
            f"{live_server}/api/v1/leads/{quick_id}",
            json={"notes": "A quick edit"},
            headers=booth.marketer.headers,
            timeout=15,
        )
        assert quick.status_code == 200
    finally:
        finish.set()
        writer.join(timeout=30)
    slow_version, quick_version = _versions(app, slow_id, quick_id)
    # Committed first, numbered first: a reader past the quick edit still gets the slow one.
    assert quick_version < slow_version
    _no_provisional_version_stored(app)


def test_two_tablets_pushing_one_person_at_once_merge(
    app: Flask, api: ApiHelper, booth: Booth, live_server: str
) -> None:
    tablets = [booth.tablet, api.tablet(booth.marketer, booth.event["id"], name="Second")]
    people = 12
    start = threading.Barrier(len(tablets))
    errors: list[str] = []

    def push(tablet_index: int) -> None:
        tablet = tablets[tablet_index]
        with requests.Session() as session:
            for person in range(people):
                email = f"same.person.{person}@example.com"
                body = {"mutations": [create_mutation(person + 1, booth.staff.id, email=email)]}
                start.wait(timeout=30)
                answer = session.post(
                    f"{live_server}/api/v1/sync/push", json=body, headers=tablet.headers, timeout=30
                )
                if answer.status_code != 200:
                    errors.append(str(answer.status_code))

    threads = [threading.Thread(target=push, args=(index,)) for index in range(len(tablets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        firsts = db.session.execute(
            sa.select(Lead.email, sa.func.count())
            .where(Lead.merged_into_id.is_(None))
            .group_by(Lead.email)
        ).all()
        merged = db.session.scalar(
            sa.select(sa.func.count()).where(Lead.merged_into_id.is_not(None))
        )
    assert len(firsts) == people and {count for _, count in firsts} == {1}
    assert merged == people


def test_a_batch_applied_mutation_by_mutation_stores_only_real_versions(
    app: Flask, booth: Booth, client: Any
) -> None:
    # Core-written rows (leads, receipts) of the fallback's own savepoints are stamped too.
    mutations = [create_mutation(i, booth.staff.id) for i in (1, 2, 3)]
    mutations[1]["fields"]["notes"] = POISON
    mutations.append(
        {
            "mutation_id": 4,
            "kind": "update",
            "lead_id": mutations[0]["lead_id"],
            "base_version": 0,
            "fields": {"notes": "Changed after the unexpected error"},
        }
    )
    mutations.append(
        {
            "mutation_id": 5,
            "kind": "update",
            "lead_id": str(uuid.uuid4()),
            "base_version": 0,
            "fields": {"notes": "No such lead"},
        }
    )
    with notes_refused_by_the_database(app):
        answer = client.post(
            "/api/v1/sync/push", json={"mutations": mutations}, headers=booth.tablet.headers
        )
    assert answer.status_code == 200, answer.json
    results = {r["mutation_id"]: r for r in answer.json["results"]}
    assert [results[i]["outcome"] for i in (1, 2, 3, 4, 5)] == [
        "applied",
        "rejected",
        "applied",
        "applied",
        "rejected",
    ]
    stored = _versions(app, mutations[0]["lead_id"], mutations[2]["lead_id"])
    assert stored == [results[4]["server_version"], results[3]["server_version"]]
    assert stored[1] < stored[0] < PROVISIONAL_BASE
    with app.app_context():
        lead = db.session.get_one(Lead, uuid.UUID(mutations[0]["lead_id"]))
        assert lead.field_versions["notes"][0] == stored[0]
        receipts = db.session.scalars(
            sa.select(MutationReceipt.mutation_id).order_by(MutationReceipt.mutation_id)
        ).all()
    assert receipts == [2, 5]
    _no_provisional_version_stored(app)
