"""9. Concurrent writers while a tablet follows its cursor: the reader never misses a commit.

Runs on SQLite too, but it is aimed at PostgreSQL, where transactions commit out of
the order they took their versions unless the single counter row serialises them.
"""

from __future__ import annotations

import random
import threading

import requests
import sqlalchemy as sa
from flask import Flask

from server.extensions import db
from server.leads.models import Lead
from tests.helpers import ApiHelper, Booth, Tablet, create_mutation

WRITERS = 8
OPERATIONS_PER_WRITER = 80
TARGET_LEADS = 100


def _pusher(base: str, tablet: Tablet, staff_id: int, errors: list[str]) -> None:
    with requests.Session() as session:
        for mutation_id in range(1, OPERATIONS_PER_WRITER + 1):
            body = {"mutations": [create_mutation(mutation_id, staff_id)]}
            response = session.post(
                f"{base}/api/v1/sync/push", json=body, headers=tablet.headers, timeout=30
            )
            if response.status_code != 200:
                errors.append(f"push {response.status_code}")


def _editor(
    base: str, headers: dict[str, str], lead_ids: list[str], seed: int, errors: list[str]
) -> None:
    rng = random.Random(seed)
    with requests.Session() as session:
        for step in range(OPERATIONS_PER_WRITER):
            lead_id = rng.choice(lead_ids)
            response = session.patch(
                f"{base}/api/v1/leads/{lead_id}",
                json={"notes": f"edit {seed}-{step}"},
                headers=headers,
                timeout=30,
            )
            if response.status_code != 200:
                errors.append(f"edit {response.status_code}")


def _follow(base: str, tablet: Tablet, known: dict[str, int], cursor: int) -> int:
    with requests.Session() as session:
        while True:
            page = session.get(
                f"{base}/api/v1/sync/pull",
                params={"cursor": cursor, "limit": 17},
                headers=tablet.headers,
                timeout=30,
            ).json()
            for change in page["changes"]:
                assert change["version"] > cursor
                if change["kind"] == "lead":
                    known[change["data"]["id"]] = change["version"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return cursor


def test_9_a_reader_following_the_cursor_sees_every_commit(
    app: Flask, api: ApiHelper, booth: Booth, live_server: str
):
    reader = booth.tablet
    mutations = [create_mutation(i, booth.staff.id) for i in range(1, TARGET_LEADS + 1)]
    response = requests.post(
        f"{live_server}/api/v1/sync/push",
        json={"mutations": mutations},
        headers=reader.headers,
        timeout=30,
    )
    assert response.status_code == 200
    lead_ids = [m["lead_id"] for m in mutations]
    pushers = [
        api.tablet(booth.marketer, booth.event["id"], name=f"P{i}") for i in range(WRITERS // 2)
    ]
    errors: list[str] = []
    threads = [
        threading.Thread(target=_pusher, args=(live_server, t, booth.staff.id, errors))
        for t in pushers
    ]
    threads += [
        threading.Thread(
            target=_editor, args=(live_server, booth.marketer.headers, lead_ids, seed, errors)
        )
        for seed in range(WRITERS // 2)
    ]
    known: dict[str, int] = {}
    for thread in threads:
        thread.start()
    cursor = 0
    while any(thread.is_alive() for thread in threads):
        cursor = _follow(live_server, reader, known, cursor)
    for thread in threads:
        thread.join(timeout=120)
    _follow(live_server, reader, known, cursor)
    assert errors == []
    with app.app_context():
        server = {
            str(lead_id): version
            for lead_id, version in db.session.execute(
                sa.select(Lead.id, Lead.server_version).where(Lead.device_id == reader.id)
            )
        }
        edited = db.session.scalar(
            sa.select(sa.func.count()).select_from(Lead).where(Lead.notes.like("edit %"))
        )
    assert edited > 0
    assert known == server
