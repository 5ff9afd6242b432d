"""The tablet's SQLite store, on real files: saving, editing, searching and sync bookkeeping."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.leads import IDENTITY_MESSAGE
from sync.store import (
    CREATE_FIELDS,
    SCHEMA_VERSION,
    SEALED_COLUMNS,
    DeviceStore,
    LeadInvalid,
    lead_state,
)

STAFF_ID = 5
EVENT: dict[str, Any] = {
    "id": 3,
    "name": "Test Expo",
    "timezone": "Europe/Berlin",
    "country": "DE",
    "questions": [
        {"id": "budget", "label": "Budget?", "type": "yes_no", "required": False},
        {"id": "timeframe", "label": "When?", "type": "single_choice", "options": ["Now", "Later"]},
    ],
    "products": [{"id": "scanner", "name": "Scanner"}],
    "consent_text": "You may contact me.",
    "consent_version": 1,
    "server_version": 4,
    "members": [{"user_id": STAFF_ID, "user": {"id": STAFF_ID, "name": "Sam", "role": "staff"}}],
}


class Clock:
    """A tablet clock the test sets."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "tablet.sqlite3"


@pytest.fixture
def store(path: Path, clock: Clock) -> Iterator[DeviceStore]:
    store = DeviceStore(path, clock=clock)
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", EVENT)
    yield store
    store.close()


def lead(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "captured_by_id": STAFF_ID,
        "first_name": "Ann",
        "last_name": "Example",
        "email": "Ann.Example@Example.COM",
        "phone": "030 1234567",
        "company": "Example GmbH",
        "answers": {"budget": True},
        "products": ["scanner"],
        "rating": "hot",
        "consent": {"given": True, "at": "2026-11-23T10:59:00+01:00"},
    }
    fields.update(overrides)
    return fields


def with_question(question: dict[str, Any]) -> dict[str, Any]:
    """Return EVENT with one more question."""
    return {**EVENT, "questions": [*EVENT["questions"], question]}


def applied(mutation: dict[str, Any], version: int, **extra: Any) -> dict[str, Any]:
    return {
        "mutation_id": mutation["mutation_id"],
        "lead_id": mutation["lead_id"],
        "outcome": "applied",
        "replayed": False,
        "server_version": version,
        "conflicts": [],
        "errors": {},
        **extra,
    }


def upload(store: DeviceStore, version: int = 10) -> None:
    """Answer every pending mutation as applied, at consecutive versions."""
    mutations = store.pending_mutations()
    store.apply_push_results(
        [applied(mutation, version + offset) for offset, mutation in enumerate(mutations)]
    )


def server_lead(lead_id: str, version: int, **overrides: Any) -> dict[str, Any]:
    """Return a lead as the pull endpoint sends it."""
    data: dict[str, Any] = {
        "id": lead_id,
        "captured_by_id": STAFF_ID,
        "captured_at": "2026-11-23T10:00:00+00:00",
        "first_name": "Ann",
        "last_name": "Example",
        "email": "ann.example@example.com",
        "phone": "+49301234567",
        "company": "Example GmbH",
        "job_title": None,
        "country": None,
        "region": None,
        "source": "manual",
        "badge_payload": None,
        "answers": {"budget": True},
        "products": ["scanner"],
        "rating": "hot",
        "notes": None,
        "follow_up": False,
        "consent": {"given": True, "version": 1, "at": "2026-11-23T10:59:00+01:00", "by_id": 5},
        "status": "new",
        "owner_id": None,
        "owner": None,
        "acknowledged_at": None,
        "server_version": version,
    }
    data.update(overrides)
    return data


# -- saving --------------------------------------------------------------------------------


def test_save_writes_the_lead_and_its_create_mutation(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())

    saved = store.get_lead(lead_id)
    assert saved is not None
    assert saved["email"] == "ann.example@example.com"
    assert saved["phone"] == "+49301234567"  # national number read in the event's country
    assert saved["captured_at"] == "2026-11-23T10:00:00+00:00"
    assert saved["consent"] == {"given": True, "version": 1, "at": "2026-11-23T10:59:00+01:00"}
    assert saved["sync_state"] == "pending"
    [mutation] = store.pending_mutations()
    assert mutation["mutation_id"] == 1
    assert mutation["kind"] == "create"
    assert mutation["lead_id"] == lead_id
    assert "base_version" not in mutation
    assert list(mutation["fields"]) == list(CREATE_FIELDS)
    assert mutation["fields"]["email"] == "ann.example@example.com"
    assert mutation["fields"]["source"] == "manual"
    assert mutation["fields"]["follow_up"] is False


def test_invalid_contact_data_saves_nothing(store: DeviceStore) -> None:
    with pytest.raises(LeadInvalid) as raised:
        store.save_lead(lead(email="not an email", phone="12"))

    assert set(raised.value.errors) == {"email", "phone"}
    assert store.counts()["total"] == 0
    assert store.pending_mutations() == []


def test_blank_contact_values_are_stored_as_null(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead(email="  ", phone="", company=" "))

    saved = store.get_lead(lead_id)
    assert saved is not None
    assert (saved["email"], saved["phone"], saved["company"]) == (None, None, None)


def test_answers_are_checked_against_the_event_questions(store: DeviceStore) -> None:
    with pytest.raises(LeadInvalid) as raised:
        store.save_lead(lead(answers={"timeframe": "Never", "colour": "red"}))

    assert set(raised.value.errors["answers"]) == {"timeframe", "colour"}


REQUIRED = {"id": "seats", "label": "Seats?", "type": "number", "required": True}


def test_a_required_question_must_be_answered_before_the_lead_is_saved(
    store: DeviceStore,
) -> None:
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", with_question(REQUIRED))
    unanswered = lead()
    del unanswered["answers"]  # a caller that never heard of the question
    for fields in (unanswered, lead(answers={"seats": None})):
        with pytest.raises(LeadInvalid) as raised:
            store.save_lead(fields)
        assert raised.value.errors == {"answers": {"seats": ["This question must be answered."]}}
    assert (store.counts()["total"], store.outbox_size()) == (0, 0)

    assert store.save_lead(lead(answers={"seats": 250}))


def test_an_edit_cannot_leave_a_required_question_unanswered(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    # The event gained a required question after the lead was saved but before its upload.
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", with_question(REQUIRED))

    with pytest.raises(LeadInvalid) as raised:
        store.update_lead(lead_id, {"notes": "Call after the show"})
    assert raised.value.errors == {"answers": {"seats": ["This question must be answered."]}}
    with pytest.raises(LeadInvalid):
        store.update_lead(lead_id, {"answers": {"budget": True, "seats": ""}})

    store.update_lead(lead_id, {"notes": "Call after the show", "answers": {"seats": 3}})
    [create] = store.pending_mutations()
    assert create["fields"]["answers"] == {"seats": 3}


def test_a_required_question_added_later_does_not_block_edits_of_uploaded_leads(
    store: DeviceStore,
) -> None:
    # As on the server: an update that leaves the answers alone is not checked against them.
    lead_id = store.save_lead(lead())
    upload(store)
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", with_question(REQUIRED))

    store.update_lead(lead_id, {"notes": "Call after the show"})

    [update] = store.pending_mutations()
    assert update["fields"] == {"notes": "Call after the show"}


def test_a_lead_needs_who_captured_it(store: DeviceStore) -> None:
    with pytest.raises(LeadInvalid) as raised:
        store.save_lead(lead(captured_by_id=None))

    assert "captured_by_id" in raised.value.errors


def test_a_lead_must_name_the_visitor_somehow(store: DeviceStore) -> None:
    nobody = lead(first_name=None, last_name="", email=None, phone=None)
    with pytest.raises(LeadInvalid) as raised:
        store.save_lead(nobody)
    assert raised.value.errors == {"_schema": [IDENTITY_MESSAGE]}
    assert store.counts()["total"] == 0
    assert store.save_lead({**nobody, "badge_payload": "BADGE-4711"})


def test_a_failed_outbox_write_leaves_no_lead_behind(store: DeviceStore, path: Path) -> None:
    # Make the second statement of the save fail inside SQLite itself.
    other = sqlite3.connect(path)
    other.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    other.commit()
    other.close()

    with pytest.raises(sqlite3.DatabaseError):
        store.save_lead(lead())

    assert store.counts()["total"] == 0
    assert store.search_leads() == []


def test_concurrent_saves_get_consecutive_mutation_ids(store: DeviceStore) -> None:
    def save_many() -> None:
        for _ in range(50):
            store.save_lead(lead())

    threads = [threading.Thread(target=save_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = [mutation["mutation_id"] for mutation in store.pending_mutations(limit=1000)]
    assert ids == list(range(1, 201))


# -- editing -------------------------------------------------------------------------------


def test_update_sends_only_changed_fields_with_the_known_server_version(
    store: DeviceStore,
) -> None:
    lead_id = store.save_lead(lead())
    upload(store, version=10)

    store.update_lead(
        lead_id, {"company": "Other AG", "first_name": "Ann", "phone": "+4930 1234567"}
    )

    [mutation] = store.pending_mutations()
    assert mutation["kind"] == "update"
    assert mutation["base_version"] == 10
    assert mutation["fields"] == {"company": "Other AG"}
    assert store.get_lead(lead_id)["company"] == "Other AG"  # type: ignore[index]


def test_an_edit_that_changes_nothing_queues_nothing(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store)

    store.update_lead(lead_id, {"email": "ANN.EXAMPLE@example.com", "answers": {"budget": True}})

    assert store.pending_mutations() == []
    assert store.get_lead(lead_id)["sync_state"] == "uploaded"  # type: ignore[index]


def test_an_edit_before_upload_is_folded_into_the_pending_create(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())

    store.update_lead(lead_id, {"notes": "Call after 3pm", "captured_by_id": 6})

    [mutation] = store.pending_mutations()
    assert mutation["kind"] == "create"
    assert mutation["fields"]["notes"] == "Call after 3pm"
    assert mutation["fields"]["captured_by_id"] == 6


def test_an_edit_while_the_create_is_in_flight_becomes_an_update(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    [create] = store.pending_mutations()  # handed to the client: may be on the server

    store.update_lead(lead_id, {"notes": "Later"})
    with pytest.raises(LeadInvalid):
        store.update_lead(lead_id, {"captured_by_id": 6})

    create_again, update = store.pending_mutations()
    assert create_again == create
    assert update["kind"] == "update"
    assert update["base_version"] is None
    assert update["fields"] == {"notes": "Later"}


def test_capture_fields_are_fixed_once_the_server_has_the_lead(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store)

    with pytest.raises(LeadInvalid) as raised:
        store.update_lead(lead_id, {"captured_at": "2026-11-23T12:00:00+01:00", "bogus": 1})

    assert set(raised.value.errors) == {"captured_at", "bogus"}


def test_updating_an_unknown_lead_is_a_key_error(store: DeviceStore) -> None:
    with pytest.raises(KeyError):
        store.update_lead("6f1c0000-0000-4000-8000-000000000000", {"notes": "x"})


def test_a_rejected_create_is_corrected_with_a_new_create(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead(products=["nope"]))
    [create] = store.pending_mutations()
    store.apply_push_results(
        [
            {
                **applied(create, 0),
                "outcome": "rejected",
                "server_version": None,
                "errors": {"products": ["This event has no product nope."]},
            }
        ]
    )
    assert lead_state(store.get_lead(lead_id)) == "rejected"  # type: ignore[arg-type]

    store.update_lead(lead_id, {"products": ["scanner"]})

    [correction] = store.pending_mutations()
    assert correction["kind"] == "create"
    assert correction["mutation_id"] == 2
    assert correction["fields"]["products"] == ["scanner"]
    assert correction["fields"]["email"] == "ann.example@example.com"
    corrected = store.get_lead(lead_id)
    assert corrected is not None
    assert (corrected["sync_state"], corrected["rejected_errors"]) == ("pending", None)


def test_rejected_leads_are_listed_with_their_reasons_until_corrected(
    store: DeviceStore,
) -> None:
    refused = store.save_lead(lead(products=["nope"]))
    store.save_lead(lead(first_name="Bo"))
    errors = {"products": ["This event has no product nope."]}
    store.apply_push_results(
        [
            {**applied(m, 0), "outcome": "rejected", "server_version": None, "errors": errors}
            if m["lead_id"] == refused
            else applied(m, 11)
            for m in store.pending_mutations()
        ]
    )

    [listed] = store.rejected_leads()
    assert (listed["id"], listed["rejected_errors"]) == (refused, errors)

    store.update_lead(refused, {"products": ["scanner"]})
    assert store.rejected_leads() == []


def reject_all(store: DeviceStore, errors: dict[str, Any]) -> None:
    """Answer every pending mutation as refused with errors."""
    store.apply_push_results(
        [
            {**applied(m, 0), "outcome": "rejected", "server_version": None, "errors": errors}
            for m in store.pending_mutations()
        ]
    )


def test_a_refused_lead_can_be_sent_again_unchanged(store: DeviceStore) -> None:
    # Refused because Sam was not on the team yet; the manager has added Sam since.
    lead_id = store.save_lead(lead())
    reject_all(store, {"captured_by_id": ["This person does not work this event."]})

    store.resend_lead(lead_id)

    [again] = store.pending_mutations()
    assert (again["kind"], again["mutation_id"]) == ("create", 2)
    assert again["fields"]["email"] == "ann.example@example.com"
    assert store.get_lead(lead_id)["sync_state"] == "pending"  # type: ignore[index]
    store.resend_lead(lead_id)  # not refused any more: nothing more is queued
    assert store.outbox_size() == 1


def test_a_refused_create_is_sent_again_only_if_it_passes_the_checks(
    store: DeviceStore,
) -> None:
    lead_id = store.save_lead(lead())
    reject_all(store, {"answers": {"seats": ["This question must be answered."]}})
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", with_question(REQUIRED))

    with pytest.raises(LeadInvalid) as raised:
        store.resend_lead(lead_id)

    assert raised.value.errors == {"answers": {"seats": ["This question must be answered."]}}
    assert store.outbox_size() == 0
    with pytest.raises(KeyError):
        store.resend_lead("6f1c0000-0000-4000-8000-000000000000")


def test_a_refused_update_is_sent_again_against_the_version_held(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store, version=10)
    store.update_lead(lead_id, {"notes": "Call back"})
    reject_all(store, {"_schema": ["Try again later."]})

    store.resend_lead(lead_id)

    [again] = store.pending_mutations()
    assert (again["kind"], again["base_version"]) == ("update", 10)
    assert again["fields"]["notes"] == "Call back" and "captured_at" not in again["fields"]


def test_correcting_a_refused_update_sends_its_other_fields_too(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store, version=10)
    store.update_lead(lead_id, {"notes": "Call back", "rating": "lukewarm"})
    reject_all(store, {"rating": ["Must be one of: hot, warm, cold."]})

    store.update_lead(lead_id, {"rating": "warm"})

    [correction] = store.pending_mutations()
    assert (correction["kind"], correction["base_version"]) == ("update", 10)
    assert correction["fields"]["rating"] == "warm"
    assert correction["fields"]["notes"] == "Call back"  # refused with it, never sent


# -- reading -------------------------------------------------------------------------------


def test_search_is_case_insensitive_and_newest_first(store: DeviceStore) -> None:
    first = store.save_lead(lead(first_name="Jürgen", last_name="Müller", email=None))
    second = store.save_lead(lead(first_name="Anna", company="MÜLLER & Co"))
    store.save_lead(lead(first_name="Bob", last_name="Smith", company="Acme", email="b@acme.io"))

    assert [found["id"] for found in store.search_leads("müller")] == [second, first]
    assert [found["id"] for found in store.search_leads("JÜRGEN")] == [first]
    assert [found["id"] for found in store.search_leads("example.com")] == [second]
    assert len(store.search_leads()) == 3
    assert [found["id"] for found in store.search_leads(limit=1, offset=2)] == [first]


def test_search_treats_like_wildcards_literally(store: DeviceStore) -> None:
    store.save_lead(lead(company="100% Natural"))
    store.save_lead(lead(company="1000 Natural"))

    assert [found["company"] for found in store.search_leads("100%")] == ["100% Natural"]
    assert store.search_leads("a_b") == []


def test_search_and_duplicate_lookups_are_indexed(store: DeviceStore, path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        indexed = {
            column
            for index in connection.execute("PRAGMA index_list(leads)")
            for _, _, column in connection.execute(f"PRAGMA index_info({index[1]})")
        }
        outbox = {index[1] for index in connection.execute("PRAGMA index_list(outbox)")}
        plan = " ".join(
            row[3]
            for row in connection.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM leads ORDER BY local_seq DESC LIMIT 50"
            )
        )
    finally:
        connection.close()
    assert {"local_seq", "email_index", "phone_index", "sync_state", "captured_utc"} <= indexed
    assert "ix_outbox_lead" in outbox
    assert "USING INDEX" in plan


def test_counts_today_in_the_event_time_zone(store: DeviceStore, clock: Clock) -> None:
    # 23:50 and 00:10 in Berlin, on either side of midnight.
    store.save_lead(lead(captured_at="2026-11-23T22:50:00+00:00"))
    rejected = store.save_lead(lead(captured_at="2026-11-24T00:10:00+01:00"))
    uploaded = store.save_lead(lead(captured_at="2026-11-23T23:20:00+00:00"))
    mutations = {m["lead_id"]: m for m in store.pending_mutations()}
    store.apply_push_results(
        [
            {**applied(mutations[rejected], 0), "outcome": "rejected", "server_version": None},
            applied(mutations[uploaded], 11),
        ]
    )
    clock.moment = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 00:30 on the 24th in Berlin

    assert store.counts() == {"total": 3, "today": 2, "pending": 1, "rejected": 1, "outbox": 1}
    assert store.counts(tz="UTC")["today"] == 3  # all three fall on the 23rd in UTC
    assert store.counts(now=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))["today"] == 1


def test_lead_state_follows_the_server_view(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    assert store.lead_state(store.get_lead(lead_id)) == "on_tablet"  # type: ignore[arg-type]

    upload(store, version=10)
    assert lead_state(store.get_lead(lead_id)) == "uploaded"  # type: ignore[arg-type]

    owner = {"id": 9, "name": "Rita Rep", "role": "rep"}
    routed = server_lead(lead_id, 12, status="assigned", owner_id=9, owner=owner)
    store.apply_pull_page([{"kind": "lead", "version": 12, "data": routed}], 12)
    routed_lead = store.get_lead(lead_id)
    assert routed_lead is not None
    assert lead_state(routed_lead) == "routed"
    assert routed_lead["owner_name"] == "Rita Rep"

    acknowledged = {**routed, "status": "acknowledged", "acknowledged_at": "2026-11-23T11:00Z"}
    store.apply_pull_page([{"kind": "lead", "version": 13, "data": acknowledged}], 13)
    assert lead_state(store.get_lead(lead_id)) == "acknowledged"  # type: ignore[arg-type]


def test_find_duplicates_matches_normalised_email_or_phone(store: DeviceStore) -> None:
    ann = store.save_lead(lead())
    bob = store.save_lead(lead(email="bob@example.com", phone="+49 30 1234567"))
    store.save_lead(lead(email="carl@example.com", phone=None))

    assert store.find_duplicates(email="ANN.EXAMPLE@example.com ") == [ann]
    assert store.find_duplicates(phone="030/1234567") == [bob, ann]
    assert store.find_duplicates(email="bob@example.com", exclude_id=bob) == []
    assert store.find_duplicates(email="not an email", phone="") == []
    assert store.find_duplicates() == []


def test_members_come_from_the_event(store: DeviceStore) -> None:
    assert store.members() == [{"id": STAFF_ID, "name": "Sam", "role": "staff"}]
    assert store.event_config()["timezone"] == "Europe/Berlin"  # type: ignore[index]


def test_drafts(store: DeviceStore) -> None:
    assert store.load_draft() is None
    store.save_draft({"first_name": "An"})
    store.save_draft({"first_name": "Ann", "at": datetime(2026, 11, 23, tzinfo=UTC)})

    assert store.load_draft() == {"first_name": "Ann", "at": "2026-11-23T00:00:00+00:00"}
    store.clear_draft()
    assert store.load_draft() is None


# -- push results ----------------------------------------------------------------------------


def test_applied_results_empty_the_outbox_and_record_the_version(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    [create] = store.pending_mutations()
    store.update_lead(lead_id, {"notes": "More"})  # in flight: queued as an update

    store.apply_push_results([applied(create, 21)])

    partly = store.get_lead(lead_id)
    assert partly is not None
    assert (partly["server_version"], partly["sync_state"]) == (21, "pending")
    [update] = store.pending_mutations()
    store.apply_push_results([applied(update, 22)])
    done = store.get_lead(lead_id)
    assert done is not None
    assert (done["server_version"], done["sync_state"]) == (22, "uploaded")
    assert store.counts()["outbox"] == 0


def test_a_result_for_a_mutation_already_handled_changes_nothing(store: DeviceStore) -> None:
    store.save_lead(lead())
    [create] = store.pending_mutations()
    store.apply_push_results([applied(create, 21)])

    store.apply_push_results([applied(create, 21, replayed=True)])

    assert store.counts()["outbox"] == 0


def test_conflicts_are_logged_and_the_server_value_kept(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store, version=10)
    store.update_lead(lead_id, {"company": "Tablet AG", "notes": "From the tablet"})
    [update] = store.pending_mutations()
    store.update_lead(lead_id, {"notes": "Edited again"})  # a newer unsent edit of notes

    conflicts = [
        {"field": "company", "server_value": "Server AG", "device_value": "Tablet AG"},
        {"field": "notes", "server_value": "Server notes", "device_value": "From the tablet"},
    ]
    store.apply_push_results([applied(update, 30, conflicts=conflicts)])

    kept = store.get_lead(lead_id)
    assert kept is not None
    assert kept["company"] == "Server AG"
    assert kept["notes"] == "Edited again"  # still to be sent: the local edit wins locally
    assert store.search_leads("server ag")[0]["id"] == lead_id
    logged = store.conflicts()
    assert [(c["field"], c["device_value"], c["server_value"]) for c in logged] == [
        ("company", "Tablet AG", "Server AG"),
        ("notes", "From the tablet", "Server notes"),
    ]
    assert logged[0]["lead_id"] == lead_id


def test_a_rejected_update_marks_the_lead_with_its_errors(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store, version=10)
    store.update_lead(lead_id, {"rating": "lukewarm"})
    [update] = store.pending_mutations()
    errors = {"rating": ["Must be one of: hot, warm, cold."]}

    store.apply_push_results(
        [{**applied(update, 0), "outcome": "rejected", "server_version": None, "errors": errors}]
    )

    rejected = store.get_lead(lead_id)
    assert rejected is not None
    assert (rejected["sync_state"], rejected["rejected_errors"]) == ("rejected", errors)
    assert rejected["server_version"] == 10
    assert store.counts()["rejected"] == 1


# -- pull ------------------------------------------------------------------------------------


def test_pull_updates_fields_except_those_with_unsent_edits(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store, version=10)
    store.update_lead(lead_id, {"company": "Tablet AG"})

    changed = server_lead(lead_id, 15, company="Server AG", job_title="CEO", status="assigned")
    store.apply_pull_page([{"kind": "lead", "version": 15, "data": changed}], 15)

    pulled = store.get_lead(lead_id)
    assert pulled is not None
    assert pulled["company"] == "Tablet AG"
    assert pulled["job_title"] == "CEO"
    assert (pulled["status"], pulled["server_version"]) == ("assigned", 15)
    assert pulled["consent"] == {"given": True, "version": 1, "at": "2026-11-23T10:59:00+01:00"}
    assert store.pending_mutations()[0]["base_version"] == 10  # queued edits keep their base


def test_pull_ignores_a_row_older_than_what_the_push_answered(store: DeviceStore) -> None:
    lead_id = store.save_lead(lead())
    upload(store, version=20)

    old = server_lead(lead_id, 18, company="Old name")
    store.apply_pull_page([{"kind": "lead", "version": 18, "data": old}], 18)

    assert store.get_lead(lead_id)["company"] == "Example GmbH"  # type: ignore[index]


def test_pull_downloads_leads_the_tablet_no_longer_holds(store: DeviceStore) -> None:
    lead_id = "6f1c0000-0000-4000-8000-000000000001"
    store.apply_pull_page([{"kind": "lead", "version": 8, "data": server_lead(lead_id, 8)}], 8)

    downloaded = store.get_lead(lead_id)
    assert downloaded is not None
    assert downloaded["sync_state"] == "uploaded"
    assert lead_state(downloaded) == "uploaded"
    assert store.search_leads("ann")[0]["id"] == lead_id
    assert store.counts()["outbox"] == 0


def test_pull_replaces_the_event_and_never_moves_the_cursor_back(store: DeviceStore) -> None:
    event = {**EVENT, "name": "Renamed Expo", "questions": []}
    store.apply_pull_page([{"kind": "event", "version": 30, "data": event}], 30)
    assert store.cursor() == 30
    assert store.event_config()["name"] == "Renamed Expo"  # type: ignore[index]

    store.apply_pull_page([], 25)
    assert store.cursor() == 30

    store.reset_cursor()
    assert store.cursor() == 0


def test_reset_cursor_keeps_leads_and_outbox(store: DeviceStore) -> None:
    store.save_lead(lead())
    store.apply_pull_page([], 40)

    store.reset_cursor()

    assert store.cursor() == 0
    assert store.counts()["outbox"] == 1


# -- pairing and persistence -----------------------------------------------------------------


def test_pairing_and_unpairing(store: DeviceStore) -> None:
    assert store.pairing() == {
        "server_url": "http://server.invalid",
        "device_id": 7,
        "event_id": 3,
        "token": "lbd_secret",
    }
    assert not store.is_unpaired

    store.mark_unpaired("revoked")
    assert store.is_unpaired
    assert store.sync_info()["unpaired"] == "revoked"

    store.set_pairing("http://server.invalid", 7, 3, "lbd_secret")
    assert not store.is_unpaired

    store.clear_pairing()
    assert store.pairing() is None
    assert store.event_config() is None


def test_the_device_name_comes_with_the_pairing_and_goes_with_it(store: DeviceStore) -> None:
    assert store.sync_info()["device_name"] is None
    store.set_pairing("http://server.invalid", 7, 3, "lbd_secret", device_name="Booth 2")
    assert store.sync_info()["device_name"] == "Booth 2"
    store.note_device_name("Hall B tablet")  # renamed on the server
    store.set_pairing("http://server.invalid", 7, 3, "lbd_other")  # a new token, same tablet
    assert store.sync_info()["device_name"] == "Hall B tablet"

    store.set_pairing("http://server.invalid", 8, 3, "lbd_new")  # another device: not its name
    assert store.sync_info()["device_name"] is None
    store.note_device_name("Booth 3")
    store.clear_pairing()
    assert store.sync_info()["device_name"] is None


def test_pairing_as_a_new_device_renumbers_unsent_mutations(store: DeviceStore) -> None:
    first = store.save_lead(lead())
    upload(store)
    second = store.save_lead(lead())
    third = store.save_lead(lead())
    store.apply_pull_page([], 50)
    assert [m["mutation_id"] for m in store.pending_mutations()] == [2, 3]

    store.set_pairing("http://server.invalid", 8, 3, "lbd_other")

    mutations = store.pending_mutations()
    assert [(m["mutation_id"], m["lead_id"]) for m in mutations] == [(1, second), (2, third)]
    assert store.cursor() == 0
    store.save_lead(lead())
    assert store.pending_mutations()[-1]["mutation_id"] == 3
    assert store.get_lead(first) is not None


def test_reopening_the_file_keeps_everything(path: Path, clock: Clock) -> None:
    with DeviceStore(path, clock=clock) as store:
        store.set_pairing("http://server.invalid", 7, 3, "lbd_secret", EVENT)
        lead_id = store.save_lead(lead())
        store.save_draft({"first_name": "Half"})
        store.apply_pull_page([], 12)
        store.note_sync_error("offline")

    with DeviceStore(path, clock=clock) as store:
        assert store.pairing() is not None
        assert store.get_lead(lead_id) is not None
        assert store.pending_mutations()[0]["lead_id"] == lead_id
        assert store.load_draft() == {"first_name": "Half"}
        assert store.cursor() == 12
        assert store.sync_info()["last_error"]["message"] == "offline"
        assert store.event_config() == EVENT
        # Ids are never reused, even after the outbox emptied.
        upload(store)
        store.save_lead(lead())

    with DeviceStore(path, clock=clock) as store:
        assert store.pending_mutations()[0]["mutation_id"] == 2

    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_a_closed_store_refuses_work(store: DeviceStore) -> None:
    store.close()
    store.close()

    with pytest.raises(Exception, match="closed"):
        store.counts()


def _opened_rows(store: DeviceStore) -> list[dict[str, Any]]:
    """Every lead row with its sealed columns opened, in local order."""
    conn = sqlite3.connect(store.path)
    conn.row_factory = sqlite3.Row
    rows = [dict(row) for row in conn.execute("SELECT * FROM leads ORDER BY local_seq")]
    conn.close()
    for row in rows:
        for name in SEALED_COLUMNS:
            row[name] = store._cipher.open(row[name], f"leads.{name}")
    return rows


def test_a_page_of_new_leads_is_stored_as_one_lead_at_a_time_would_be(
    store: DeviceStore, tmp_path: Path, clock: Clock
) -> None:
    ids = [f"6f1c0000-0000-4000-8000-00000000000{n}" for n in range(1, 6)]
    page = [
        {"kind": "lead", "version": 8 + n, "data": server_lead(lead_id, 8 + n, **extra)}
        for n, (lead_id, extra) in enumerate(
            zip(
                ids,
                [
                    {},
                    {"status_reason": "Went elsewhere", "status": "lost", "first_name": "Ådne"},
                    {"email": None, "phone": None, "notes": "Met at the bar"},
                    {"owner_id": 9, "owner": {"id": 9, "name": "Rita", "role": "rep"}},
                    {"badge_payload": "BEGIN:VCARD", "merged_into_id": ids[0]},
                ],
                strict=True,
            )
        )
    ]
    one_by_one = DeviceStore(tmp_path / "one.sqlite3", clock=clock)
    one_by_one.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", EVENT)
    for change in page:
        one_by_one.apply_pull_page([change], change["version"])
    store.search_leads("")  # the in-memory search index is built: the batch must keep it
    store.apply_pull_page(page, 13)

    batched, single = _opened_rows(store), _opened_rows(one_by_one)
    one_by_one.close()
    assert len(batched) == 5
    for row in (*batched, *single):
        row.pop("created_locally_at"), row.pop("confirmed_at")
        row.pop("local_seq")
    # Blind indexes are keyed per tablet: compare that they are there, not their value.
    for row in (*batched, *single):
        for name in ("email_index", "phone_index"):
            row[name] = row[name] is not None
    assert batched == single
    assert [lead["id"] for lead in store.search_leads("")] == ids[::-1]  # newest first
    assert store.search_leads("ådne")[0]["id"] == ids[1]
    assert store.cursor() == 13


def test_a_page_applies_in_order_around_the_leads_it_inserts(store: DeviceStore) -> None:
    forgotten, erased, twice = (f"6f1c0000-0000-4000-8000-00000000010{n}" for n in range(3))
    store.apply_pull_page([{"kind": "lead", "version": 1, "data": server_lead(forgotten, 1)}], 1)
    store.apply_pull_page([{"kind": "erasure", "version": 2, "data": {"id": forgotten}}], 2)
    store.apply_pull_page(
        [
            {"kind": "lead", "version": 3, "data": server_lead(forgotten, 3)},
            {"kind": "lead", "version": 4, "data": server_lead(erased, 4)},
            {"kind": "lead", "version": 5, "data": server_lead(twice, 5, company="First")},
            {"kind": "erasure", "version": 6, "data": {"id": erased}},
            {"kind": "lead", "version": 7, "data": server_lead(twice, 7, company="Second")},
        ],
        7,
    )
    assert store.get_lead(forgotten) is None  # deleted here on purpose: stays deleted
    assert store.get_lead(erased) is None
    kept = store.get_lead(twice)
    assert kept is not None and kept["company"] == "Second" and kept["server_version"] == 7
    assert store.counts()["total"] == 1


# One answer per sent mutation: None (not in the answer), or the version the server gave.
ANSWERS = st.lists(st.none() | st.integers(min_value=1, max_value=40), min_size=1, max_size=6)


def _answered_store(
    path: Path, clock: Clock, answers: list[int | None], edited: list[bool], known: list[bool]
) -> tuple[DeviceStore, list[dict[str, Any]]]:
    """Return a store with len(answers) mutations sent, and the server's answers to them.

    Leads that are known were uploaded before, at version 20, and their edit is what is
    sent; edited leads are edited again while the push is in flight.
    """
    store = DeviceStore(path, clock=clock)
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", EVENT)
    ids = [f"00000000-0000-4000-8000-{index:012d}" for index in range(len(answers))]
    for index, lead_id in enumerate(ids):
        store.save_lead(lead(email=f"ann{index}@example.com", phone=""), lead_id=lead_id)
    uploaded = [lead_id for lead_id, old in zip(ids, known, strict=False) if old]
    store.apply_push_results(
        [applied(m, 20) for m in store.pending_mutations() if m["lead_id"] in uploaded]
    )
    for lead_id in uploaded:
        store.update_lead(lead_id, {"notes": "Edited after its upload."})
    sent = store.pending_mutations()
    for lead_id, edit in zip(ids, edited, strict=False):
        if edit:
            store.update_lead(lead_id, {"notes": "Edited while the push was in flight."})
    results = [
        applied(mutation, version)
        for mutation, version in zip(sent, answers, strict=True)
        if version is not None
    ]
    return store, results


def _state(store: DeviceStore) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store._reading() as conn:
        leads = conn.execute(
            "SELECT id, server_version, sync_state, rejected_errors, confirmed_at"
            " FROM leads ORDER BY id"
        ).fetchall()
        outbox = conn.execute("SELECT mutation_id, lead_id, kind FROM outbox").fetchall()
    return [tuple(row) for row in leads], [tuple(row) for row in outbox]


@settings(max_examples=40, deadline=None)
@given(
    answers=ANSWERS,
    edited=st.lists(st.booleans(), max_size=6),
    known=st.lists(st.booleans(), max_size=6),
    data=st.data(),
)
def test_answers_recorded_set_by_set_leave_the_store_as_one_by_one_would(
    tmp_path_factory: pytest.TempPathFactory,
    answers: list[int | None],
    edited: list[bool],
    known: list[bool],
    data: st.DataObject,
) -> None:
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    folder = tmp_path_factory.mktemp("answers")
    scenario = (answers, edited, known)
    batched, results = _answered_store(folder / "batched.sqlite3", clock, *scenario)
    single, _ = _answered_store(folder / "single.sqlite3", clock, *scenario)
    results = data.draw(st.permutations(results))
    try:
        queued = batched.counts()["outbox"]
        batched.apply_push_results(results)
        with single._transaction() as conn:
            for result in sorted(results, key=lambda item: item["mutation_id"]):
                single._apply_result(conn, result)
        assert _state(batched) == _state(single)
        assert batched.counts()["outbox"] == queued - len(results)
    finally:
        batched.close()
        single.close()
