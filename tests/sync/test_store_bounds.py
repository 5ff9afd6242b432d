"""The tablet refuses, at save time and with the reason, values no push could deliver.

The bounds are the server's own (sync/bounds.py): a lead the tablet stores is one the
server can store, so no saved lead can stop the tablet's queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.bounds import SURROGATE_MESSAGE, TIME_MESSAGE
from sync.store import DeviceStore, LeadInvalid

STAFF_ID = 5
EVENT: dict[str, Any] = {
    "id": 3,
    "name": "Test Expo",
    "timezone": "Europe/Berlin",
    "country": "DE",
    "questions": [{"id": "pain", "label": "Pain", "type": "text"}],
    "products": [{"id": "scanner", "name": "Scanner"}],
    "consent_text": "You may contact me.",
    "consent_version": 1,
    "server_version": 4,
    "members": [{"user_id": STAFF_ID, "user": {"id": STAFF_ID, "name": "Sam", "role": "staff"}}],
}
GOOD = {"first_name": "Ann", "email": "ann@example.com", "captured_by_id": STAFF_ID}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DeviceStore]:
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    store.set_pairing("http://server.invalid/", 7, 3, "lbd_secret", EVENT)
    yield store
    store.close()


REFUSED = [
    pytest.param(
        {"consent": {"given": True, "version": 1, "at": "0001-01-01T00:30:00+01:00"}},
        {"consent": ["at"]},
        TIME_MESSAGE,
        id="consent-time-before-year-1-in-utc",
    ),
    pytest.param(
        {"captured_at": "9999-12-31T23:30:00-01:00"},
        {"captured_at": []},
        TIME_MESSAGE,
        id="capture-time-after-9999-in-utc",
    ),
    pytest.param(
        {"last_name": "Ex\ud800ample"}, {"last_name": []}, SURROGATE_MESSAGE, id="surrogate"
    ),
    pytest.param(
        {"answers": {"pain": "slow \udfff"}}, {"answers": ["pain"]}, SURROGATE_MESSAGE, id="answer"
    ),
    pytest.param(
        {"products": ["scan\ud83dner"]}, {"products": []}, SURROGATE_MESSAGE, id="product"
    ),
    pytest.param({"captured_by_id": 2**40}, {"captured_by_id": []}, None, id="huge-captured-by"),
    pytest.param(
        {"consent": {"given": True, "version": 2**40}},
        {"consent": ["version"]},
        None,
        id="huge-consent-version",
    ),
]


@pytest.mark.parametrize(("change", "where", "message"), REFUSED)
def test_the_tablet_refuses_what_the_server_could_not_store(
    store: DeviceStore, change: dict[str, Any], where: dict[str, list[str]], message: str | None
) -> None:
    with pytest.raises(LeadInvalid) as refused:
        store.save_lead({**GOOD, **change})
    errors: Any = refused.value.errors
    ((field, path),) = where.items()
    errors = errors[field]
    for key in path:
        errors = errors[key]
    assert errors and all(isinstance(text, str) and text for text in errors)
    if message:
        assert message in errors
    assert store.counts()["outbox"] == 0, "nothing was queued"
    # The same lead within the bounds saves.
    store.save_lead(GOOD)
    assert store.counts()["outbox"] == 1


def test_answers_saved_before_the_event_is_known_must_still_be_sendable(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "unpaired.sqlite3")
    try:
        with pytest.raises(LeadInvalid) as refused:
            store.save_lead({**GOOD, "answers": {"seats": float("nan")}})
        assert "answers" in refused.value.errors
        with pytest.raises(LeadInvalid):
            store.save_lead({**GOOD, "answers": {"pain": "\ud800"}})
    finally:
        store.close()
