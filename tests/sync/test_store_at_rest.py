"""The tablet store's data at rest: sealed columns, the key file, retention and erasure."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.crypto import NullCipher, is_sealed
from sync.keystore import key_path_for
from sync.store import DEFAULT_RETENTION_DAYS, SEALED_COLUMNS, DeviceStore, StoreError
from tests.sync.test_store import EVENT, Clock, lead, server_lead, upload

SECRETS = (
    "Zoë",
    "Quixotic",
    "zoe.quixotic@example.org",
    "+49301234567",
    "Secretive Widgets",
    "Chief Tinkerer",
    "wants a demo on Tuesday",
    "BADGE-77-SECRET",
    "free text answer",
)


def private_lead(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "first_name": "Zoë",
        "last_name": "Quixotic",
        "email": "Zoe.Quixotic@example.org",
        "phone": "030 1234567",
        "company": "Secretive Widgets",
        "job_title": "Chief Tinkerer",
        "notes": "wants a demo on Tuesday",
        "badge_payload": "BADGE-77-SECRET",
    }
    return lead(**{**fields, **overrides})


def raw_bytes(path: Path) -> bytes:
    """Return the database file and its WAL as one copied attacker would read them."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "tablet.sqlite3"


@pytest.fixture
def store(path: Path, clock: Clock) -> Iterator[DeviceStore]:
    event = {
        **EVENT,
        "questions": [*EVENT["questions"], {"id": "story", "label": "Story", "type": "text"}],
    }
    store = DeviceStore(path, clock=clock)
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", event)
    yield store
    store.close()


def test_a_copied_database_file_reveals_no_personal_data(store: DeviceStore, path: Path) -> None:
    lead_id = store.save_lead(private_lead(answers={"story": "free text answer"}))
    store.save_draft({"first_name": "Zoë", "email": "zoe.quixotic@example.org"})
    store.update_lead(lead_id, {"notes": "wants a demo on Tuesday, again"})

    raw = raw_bytes(path)
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
        assert secret.casefold().encode() not in raw, secret
    # And every personal-data column really holds a sealed value, not an encoding.
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(
            f"SELECT {', '.join(SEALED_COLUMNS)} FROM leads WHERE id = ?", (lead_id,)
        ).fetchone()
        outbox = connection.execute("SELECT fields FROM outbox").fetchall()
        draft = connection.execute("SELECT data FROM drafts").fetchone()
    finally:
        connection.close()
    assert all(is_sealed(value) for value in row if value is not None)
    assert all(is_sealed(fields) for (fields,) in outbox) and is_sealed(draft[0])
    # The store itself still reads everything back.
    assert store.get_lead(lead_id)["email"] == "zoe.quixotic@example.org"
    assert store.get_lead(lead_id)["answers"] == {"story": "free text answer"}
    assert store.pending_mutations()[0]["fields"]["notes"] == "wants a demo on Tuesday, again"


def test_the_key_lives_beside_the_file_readable_by_the_owner_only(
    store: DeviceStore, path: Path
) -> None:
    key = key_path_for(path)
    assert key.exists() and key.parent == path.parent and key != path
    if os.name == "posix":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes() not in raw_bytes(path)


def test_without_its_key_the_file_does_not_open(store: DeviceStore, path: Path) -> None:
    store.save_lead(private_lead())
    store.close()
    key = key_path_for(path)
    key.rename(path.with_name("elsewhere.key"))

    with pytest.raises(StoreError, match="missing"):
        DeviceStore(path)
    assert not key.exists()  # no new key was made over sealed data

    key.write_bytes(os.urandom(32))
    with pytest.raises(StoreError, match="does not open"):
        DeviceStore(path)


def test_a_loose_key_file_is_tightened(store: DeviceStore, path: Path, clock: Clock) -> None:
    store.close()
    key = key_path_for(path)
    key.chmod(0o644)
    with DeviceStore(path, clock=clock):
        pass
    if os.name == "posix":
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_duplicates_and_search_work_on_sealed_columns(
    store: DeviceStore, path: Path, clock: Clock
) -> None:
    first = store.save_lead(private_lead())
    second = store.save_lead(private_lead(email="other@example.org", phone=None))

    assert store.find_duplicates(email="ZOE.QUIXOTIC@example.org ") == [first]
    assert store.find_duplicates(phone="+49 30 1234567") == [first]
    assert [found["id"] for found in store.search_leads("quixo")] == [second, first]
    store.update_lead(second, {"last_name": "Zebedee"})
    assert [found["id"] for found in store.search_leads("zebedee")] == [second]
    third = store.save_lead(private_lead(last_name="Zebedee", email=None))
    assert [found["id"] for found in store.search_leads("zebedee")] == [third, second]
    store.close()

    with DeviceStore(path, clock=clock) as reopened:
        assert [found["id"] for found in reopened.search_leads("zoë")] == [third, second, first]
        assert reopened.find_duplicates(email="other@example.org") == [second]


def test_a_store_written_in_the_clear_is_sealed_on_first_open(path: Path, clock: Clock) -> None:
    with DeviceStore(path, clock=clock, cipher=NullCipher()) as plain:
        plain.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", EVENT)
        lead_id = plain.save_lead(private_lead())
        plain.save_draft({"first_name": "Zoë"})
    assert b"Quixotic" in raw_bytes(path)

    with DeviceStore(path, clock=clock) as sealed:
        assert sealed.get_lead(lead_id)["last_name"] == "Quixotic"
        assert sealed.find_duplicates(email="zoe.quixotic@example.org") == [lead_id]
        assert sealed.pending_mutations()[0]["fields"]["company"] == "Secretive Widgets"
        assert sealed.load_draft() == {"first_name": "Zoë"}
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
        sealed._connection().execute("VACUUM")
    assert b"Quixotic" not in raw_bytes(path)


def test_confirmed_leads_leave_the_tablet_after_the_retention_period(
    store: DeviceStore, clock: Clock
) -> None:
    assert store.retention_days() == DEFAULT_RETENTION_DAYS
    store.set_retention_days(7)
    confirmed = store.save_lead(private_lead())
    upload(store)
    rejected = store.save_lead(private_lead(email="r@example.org"))
    store.apply_push_results(
        [
            {
                "mutation_id": store.pending_mutations()[0]["mutation_id"],
                "lead_id": rejected,
                "outcome": "rejected",
                "errors": {"rating": ["no"]},
            }
        ]
    )
    edited = store.save_lead(private_lead(email="e@example.org"))
    upload(store, 20)
    store.update_lead(edited, {"notes": "an edit not yet sent"})

    clock.moment += timedelta(days=6, hours=23)
    assert store.purge_expired() == 0
    clock.moment += timedelta(hours=2)
    assert store.purge_expired() == 1

    assert store.get_lead(confirmed) is None
    assert store.get_lead(rejected) is not None and store.get_lead(edited) is not None
    assert store.search_leads("quixotic") and confirmed not in {
        found["id"] for found in store.search_leads("quixotic")
    }
    # The server touching the lead later does not bring it back.
    store.apply_pull_page([{"kind": "lead", "version": 30, "data": server_lead(confirmed, 30)}], 30)
    assert store.get_lead(confirmed) is None
    with pytest.raises(ValueError):
        store.set_retention_days(-1)


def test_a_pulled_erasure_removes_the_lead_and_keeps_it_away(store: DeviceStore) -> None:
    lead_id = store.save_lead(private_lead())
    upload(store)
    store.apply_pull_page([], 11)
    assert store.search_leads("quixotic")

    store.apply_pull_page([{"kind": "erasure", "version": 12, "data": {"id": lead_id}}], 12)

    assert store.get_lead(lead_id) is None
    assert store.search_leads("quixotic") == []
    assert store.counts()["outbox"] == 0
    store.apply_pull_page([{"kind": "lead", "version": 13, "data": server_lead(lead_id, 13)}], 13)
    assert store.get_lead(lead_id) is None
    assert store.cursor() == 13


def test_a_wipe_leaves_an_empty_store_with_a_new_key(
    store: DeviceStore, path: Path, clock: Clock
) -> None:
    store.save_lead(private_lead())
    store.save_draft({"first_name": "Zoë"})
    old_key = key_path_for(path).read_bytes()

    store.wipe()

    assert store.counts()["total"] == 0 and store.outbox_size() == 0
    assert store.pairing() is None and store.load_draft() is None
    assert key_path_for(path).read_bytes() != old_key
    for secret in SECRETS:
        assert secret.encode() not in raw_bytes(path)
    # The store goes on working for the next pairing, and reopens with the new key.
    store.set_pairing("http://server.invalid/", 8, 3, "lbd_new", EVENT)
    lead_id = store.save_lead(private_lead())
    store.close()
    with DeviceStore(path, clock=clock) as reopened:
        assert reopened.get_lead(lead_id)["first_name"] == "Zoë"


def test_a_pulled_outcome_reason_is_sealed(store: DeviceStore, path: Path) -> None:
    lead_id = store.save_lead(private_lead())
    upload(store)
    outcome = {"status": "lost", "status_reason": "Went with Mr Quixote's firm", "owner_id": 4}
    store.apply_pull_page(
        [{"kind": "lead", "version": 40, "data": server_lead(lead_id, 40, **outcome)}], 40
    )
    assert b"Quixote" not in raw_bytes(path)
    shown = store.get_lead(lead_id)
    assert shown["status"] == "lost" and shown["status_reason"] == "Went with Mr Quixote's firm"
