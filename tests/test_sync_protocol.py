"""The server side of sync: exactly-once push, holes, rejections, conflicts, ordered pull.

Numbers in test names are those of the reliability requirements they check.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.leads.models import Lead
from server.sync import push as push_module
from tests.helpers import ApiHelper, Booth, Tablet, create_mutation, push_body


def _push(client: FlaskClient, tablet: Tablet, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/sync/push", json=body, headers=tablet.headers)


def _pull_all(client: FlaskClient, tablet: Tablet, cursor: int = 0, limit: int = 200) -> tuple:
    """Follow the cursor to the end; return the latest data per row and the cursor."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    while True:
        page = client.get(
            f"/api/v1/sync/pull?cursor={cursor}&limit={limit}", headers=tablet.headers
        ).json
        versions = [change["version"] for change in page["changes"]]
        assert versions == sorted(versions) and all(v > cursor for v in versions)
        for change in page["changes"]:
            seen[(change["kind"], str(change["data"]["id"]))] = change["data"]
        assert page["next_cursor"] >= cursor
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return seen, cursor


def _lead_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Lead))


def test_status_reports_protocol_and_last_mutation(booth: Booth, client: FlaskClient):
    status = client.get("/api/v1/sync/status", headers=booth.tablet.headers).json
    assert status["protocol_versions"] == [1]
    assert status["last_mutation_id"] == 0 and status["event_id"] == booth.event["id"]
    assert (status["booth_leads_total"], status["booth_leads_today"]) == (0, 0)
    _push(client, booth.tablet, push_body(booth.staff.id, count=3))
    status = client.get("/api/v1/sync/status", headers=booth.tablet.headers).json
    assert status["last_mutation_id"] == 3


def test_status_counts_the_whole_booth(api: ApiHelper, booth: Booth, client: FlaskClient):
    other = api.tablet(booth.marketer, booth.event["id"], name="Other")
    _push(client, booth.tablet, push_body(booth.staff.id, count=3))
    _push(client, other, push_body(booth.staff.id, count=2))
    status = client.get("/api/v1/sync/status", headers=other.headers).json
    assert (status["booth_leads_total"], status["booth_leads_today"]) == (5, 5)


def test_too_old_clients_get_426(booth: Booth, client: FlaskClient):
    headers = {**booth.tablet.headers, "Leadbridge-Protocol": "0"}
    response = client.get("/api/v1/sync/status", headers=headers)
    assert response.status_code == 426 and response.json["errors"]["protocol_versions"] == [1]
    garbage = client.get("/api/v1/sync/status", headers={**headers, "Leadbridge-Protocol": "x"})
    assert garbage.status_code == 400


def test_1_the_same_push_replayed_five_times_stores_each_lead_once(
    app: Flask, booth: Booth, client: FlaskClient
):
    body = push_body(booth.staff.id, count=10)
    answers = [_push(client, booth.tablet, body) for _ in range(5)]
    assert all(answer.status_code == 200 for answer in answers)
    assert [r["replayed"] for r in answers[0].json["results"]] == [False] * 10
    assert [r["replayed"] for r in answers[4].json["results"]] == [True] * 10
    # A replay answers exactly what the first answer said.
    first = [{**r, "replayed": True} for r in answers[0].json["results"]]
    assert answers[4].json["results"] == first
    assert _lead_count(app) == 10


def test_3_a_crash_halfway_through_a_batch_commits_nothing(
    app: Flask, booth: Booth, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
):
    # A crash after the mutations were applied, before the commit (the process dying,
    # the database going away): nothing is half-stored, and the retry stores it all.
    # (A failure inside one mutation rejects that mutation alone: tests/test_poison.py.)
    real_stamp = push_module.stamp_versions

    def crash_before_commit(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected crash")

    monkeypatch.setattr(push_module, "stamp_versions", crash_before_commit)
    body = push_body(booth.staff.id, count=10)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        crashed = _push(client, booth.tablet, body)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert crashed.status_code == 500
    assert _lead_count(app) == 0
    status = client.get("/api/v1/sync/status", headers=booth.tablet.headers).json
    assert status["last_mutation_id"] == 0
    monkeypatch.setattr(push_module, "stamp_versions", real_stamp)
    retried = _push(client, booth.tablet, body)
    assert retried.status_code == 200
    assert [r["outcome"] for r in retried.json["results"]] == ["applied"] * 10
    assert _lead_count(app) == 10


def test_6_a_hole_in_mutation_ids_is_409_and_later_ones_wait(
    app: Flask, booth: Booth, client: FlaskClient
):
    mutations = [create_mutation(i, booth.staff.id) for i in (1, 2, 4)]
    response = _push(client, booth.tablet, {"mutations": mutations})
    assert response.status_code == 409
    assert response.json["errors"] == {"expected_mutation_id": 3}
    with app.app_context():
        stored = set(db.session.scalars(sa.select(Lead.id)))
    assert {str(lead_id) for lead_id in stored} == {m["lead_id"] for m in mutations[:2]}
    # Sending 3 and 4 afterwards completes the queue; 1 and 2 are answered as replays.
    rest = [*mutations[:2], create_mutation(3, booth.staff.id), mutations[2]]
    completed = _push(client, booth.tablet, {"mutations": rest})
    assert completed.status_code == 200
    assert [r["replayed"] for r in completed.json["results"]] == [True, True, False, False]
    assert _lead_count(app) == 4


def test_7_an_invalid_mutation_is_rejected_and_does_not_block_the_queue(
    app: Flask, booth: Booth, client: FlaskClient
):
    mutations = [create_mutation(i, booth.staff.id) for i in range(1, 6)]
    mutations[2]["fields"]["email"] = "not an email"
    response = _push(client, booth.tablet, {"mutations": mutations})
    assert response.status_code == 200
    outcomes = [r["outcome"] for r in response.json["results"]]
    assert outcomes == ["applied", "applied", "rejected", "applied", "applied"]
    assert "email" in response.json["results"][2]["errors"]
    assert response.json["last_mutation_id"] == 5
    assert _lead_count(app) == 4
    # The replay of a rejection repeats the reason.
    replay = _push(client, booth.tablet, {"mutations": mutations[2:3]}).json["results"][0]
    assert replay["outcome"] == "rejected" and replay["replayed"] and "email" in replay["errors"]
    # The tablet corrects the lead and sends it as a new create.
    fixed = {**mutations[2], "mutation_id": 6}
    fixed["fields"] = {**fixed["fields"], "email": "fixed@example.com"}
    again = _push(client, booth.tablet, {"mutations": [fixed]})
    assert again.json["results"][0]["outcome"] == "applied"
    assert _lead_count(app) == 5


def test_updates_change_only_the_fields_sent(booth: Booth, client: FlaskClient):
    create = create_mutation(1, booth.staff.id)
    version = _push(client, booth.tablet, {"mutations": [create]}).json["results"][0][
        "server_version"
    ]
    update = {
        "mutation_id": 2,
        "kind": "update",
        "lead_id": create["lead_id"],
        "base_version": version,
        "fields": {"notes": "Call after 3pm", "phone": "+44 20 7946 0958"},
    }
    result = _push(client, booth.tablet, {"mutations": [update]}).json["results"][0]
    assert result["outcome"] == "applied" and result["server_version"] > version
    lead = client.get(f"/api/v1/leads/{create['lead_id']}", headers=booth.marketer.headers).json
    assert lead["notes"] == "Call after 3pm" and lead["phone"] == "+442079460958"
    assert lead["company"] == create["fields"]["company"]
    timeline = client.get(
        f"/api/v1/leads/{create['lead_id']}/timeline", headers=booth.marketer.headers
    ).json
    assert timeline[-1]["kind"] == "edited"
    assert sorted(timeline[-1]["detail"]["fields"]) == ["notes", "phone"]


def test_updates_of_unknown_leads_or_fixed_fields_are_rejected(booth: Booth, client: FlaskClient):
    create = create_mutation(1, booth.staff.id)
    unknown = {
        "mutation_id": 2,
        "kind": "update",
        "lead_id": "7d0c1e5e-8c37-4b0b-9d1f-0c8d1b6f3c11",
        "base_version": 0,
        "fields": {"notes": "x"},
    }
    fixed = {
        "mutation_id": 3,
        "kind": "update",
        "lead_id": create["lead_id"],
        "base_version": 0,
        "fields": {"captured_by_id": 1, "source": "badge"},
    }
    results = _push(client, booth.tablet, {"mutations": [create, unknown, fixed]}).json["results"]
    assert [r["outcome"] for r in results] == ["applied", "rejected", "rejected"]
    assert set(results[2]["errors"]) == {"captured_by_id", "source"}


def test_10_tablet_clocks_a_day_off_change_nothing(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    fast = api.tablet(booth.marketer, booth.event["id"], name="Fast clock")
    now = datetime.now(UTC)
    slow_body = {
        "mutations": [
            create_mutation(i, booth.staff.id, captured_at=(now - timedelta(days=1)).isoformat())
            for i in (1, 2)
        ]
    }
    fast_body = {
        "mutations": [
            create_mutation(i, booth.staff.id, captured_at=(now + timedelta(days=1)).isoformat())
            for i in (1, 2)
        ]
    }
    first = _push(client, fast, fast_body).json["results"]
    second = _push(client, booth.tablet, slow_body).json["results"]
    # Server versions follow arrival, whatever the tablets' clocks say.
    assert [r["server_version"] for r in first + second] == sorted(
        r["server_version"] for r in first + second
    )
    assert _lead_count(app) == 4
    seen, _cursor = _pull_all(client, booth.tablet)
    leads = [data for (kind, _id), data in seen.items() if kind == "lead"]
    assert {lead["id"] for lead in leads} == {m["lead_id"] for m in slow_body["mutations"]}
    assert all(
        lead["captured_at"].startswith(str((now - timedelta(days=1)).date())) for lead in leads
    )


def test_11_conflicts_are_resolved_field_by_field(booth: Booth, client: FlaskClient):
    create = create_mutation(1, booth.staff.id)
    base = _push(client, booth.tablet, {"mutations": [create]}).json["results"][0]["server_version"]
    url = f"/api/v1/leads/{create['lead_id']}"
    edited = client.patch(
        url,
        json={"email": "ann@new.example.com", "company": "Server Co"},
        headers=booth.marketer.headers,
    )
    assert edited.status_code == 200
    update = {
        "mutation_id": 2,
        "kind": "update",
        "lead_id": create["lead_id"],
        "base_version": base,
        "fields": {"phone": "+44 20 7946 0958", "company": "Tablet Ltd"},
    }
    result = _push(client, booth.tablet, {"mutations": [update]}).json["results"][0]
    assert result["outcome"] == "applied"
    assert result["conflicts"] == [
        {"field": "company", "server_value": "Server Co", "device_value": "Tablet Ltd"}
    ]
    lead = client.get(url, headers=booth.marketer.headers).json
    assert lead["email"] == "ann@new.example.com"  # the server's edit survives
    assert lead["phone"] == "+442079460958"  # and so does the tablet's
    assert lead["company"] == "Server Co"  # same field: the server wins


def test_a_tablets_own_queued_edits_do_not_conflict_with_each_other(
    booth: Booth, client: FlaskClient
):
    create = create_mutation(1, booth.staff.id)
    base = _push(client, booth.tablet, {"mutations": [create]}).json["results"][0]["server_version"]
    edits = [
        {
            "mutation_id": i,
            "kind": "update",
            "lead_id": create["lead_id"],
            "base_version": base,
            "fields": {"notes": f"edit {i}"},
        }
        for i in (2, 3)
    ]
    results = _push(client, booth.tablet, {"mutations": edits}).json["results"]
    assert [r["conflicts"] for r in results] == [[], []]
    lead = client.get(f"/api/v1/leads/{create['lead_id']}", headers=booth.marketer.headers).json
    assert lead["notes"] == "edit 3"


def test_12_revoked_tablets_get_401_and_foreign_leads_are_rejected(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    other = api.tablet(booth.marketer, booth.event["id"], name="B")
    create = create_mutation(1, booth.staff.id)
    assert _push(client, other, {"mutations": [create]}).status_code == 200
    theirs = client.get(f"/api/v1/leads/{create['lead_id']}", headers=booth.marketer.headers).json
    # Tablet A pushing tablet B's lead (an edit, or a create with its id): each is rejected,
    # nothing of B's lead changes, and A's own mutation around them is applied: a tablet
    # re-paired as a new device must not find its queue stuck behind an old lead.
    steal = {
        "mutation_id": 1,
        "kind": "update",
        "lead_id": create["lead_id"],
        "base_version": 0,
        "fields": {"notes": "mine now"},
    }
    mine = create_mutation(2, booth.staff.id)
    clash = {**create_mutation(3, booth.staff.id), "lead_id": create["lead_id"]}
    answer = _push(client, booth.tablet, {"mutations": [steal, mine, clash]})
    assert answer.status_code == 200, answer.json
    outcomes = {r["mutation_id"]: r for r in answer.json["results"]}
    assert [outcomes[i]["outcome"] for i in (1, 2, 3)] == ["rejected", "applied", "rejected"]
    assert "another tablet" in outcomes[1]["errors"]["lead_id"][0]
    assert answer.json["last_mutation_id"] == 3
    assert _lead_count(app) == 2
    after = client.get(f"/api/v1/leads/{create['lead_id']}", headers=booth.marketer.headers).json
    assert after == theirs
    client.post(f"/api/v1/devices/{other.id}/revoke", headers=booth.marketer.headers)
    revoked = _push(client, other, {"mutations": [create_mutation(2, booth.staff.id)]})
    assert revoked.status_code == 401
    assert _lead_count(app) == 2


def test_a_batch_of_creates_only_knows_stored_leads_by_their_owner_and_version(
    app: Flask, api: ApiHelper, booth: Booth, client: FlaskClient
):
    # A batch of creates looks its leads up by column, not as objects (server/sync/push.py):
    # a create of another tablet's lead is still rejected, one of this tablet's own stored
    # lead under a new mutation id still answers its stored version, and nothing is added.
    other = api.tablet(booth.marketer, booth.event["id"], name="B")
    theirs = create_mutation(1, booth.staff.id)
    assert _push(client, other, {"mutations": [theirs]}).status_code == 200
    mine = create_mutation(1, booth.staff.id)
    first = _push(client, booth.tablet, {"mutations": [mine]}).json["results"][0]
    again = {**mine, "mutation_id": 2}
    clash = {**create_mutation(3, booth.staff.id), "lead_id": theirs["lead_id"]}
    answer = _push(client, booth.tablet, {"mutations": [again, clash]})
    assert answer.status_code == 200, answer.json
    results = answer.json["results"]
    assert [r["outcome"] for r in results] == ["applied", "rejected"]
    assert results[0]["server_version"] == first["server_version"]
    assert results[0]["replayed"] is False
    assert "another tablet" in results[1]["errors"]["lead_id"][0]
    assert answer.json["last_mutation_id"] == 3
    assert _lead_count(app) == 2


def test_pull_pages_in_version_order_and_brings_back_sales_outcomes(
    booth: Booth, client: FlaskClient
):
    body = push_body(booth.staff.id, count=25)
    _push(client, booth.tablet, body)
    seen, cursor = _pull_all(client, booth.tablet, limit=7)
    leads = {key[1] for key in seen if key[0] == "lead"}
    assert leads == {m["lead_id"] for m in body["mutations"]}
    event = seen[("event", str(booth.event["id"]))]
    assert {m["user_id"] for m in event["members"]} == {booth.staff.id, booth.rep.id}
    # A rep acknowledging a lead reaches the tablet on its next pull.
    lead_id = body["mutations"][0]["lead_id"]
    client.patch(
        f"/api/v1/leads/{lead_id}", json={"owner_id": booth.rep.id}, headers=booth.marketer.headers
    )
    client.patch(
        f"/api/v1/leads/{lead_id}", json={"status": "acknowledged"}, headers=booth.rep.headers
    )
    changed, new_cursor = _pull_all(client, booth.tablet, cursor)
    assert list(changed) == [("lead", lead_id)]
    assert changed[("lead", lead_id)]["status"] == "acknowledged"
    assert changed[("lead", lead_id)]["owner"]["id"] == booth.rep.id
    assert new_cursor > cursor
    # Event configuration changes come down the same stream.
    client.patch(
        f"/api/v1/events/{booth.event['id']}", json={"booth": "Z1"}, headers=booth.marketer.headers
    )
    changed, _ = _pull_all(client, booth.tablet, new_cursor)
    assert changed[("event", str(booth.event["id"]))]["booth"] == "Z1"


def test_pull_with_a_cursor_from_the_future_is_410(booth: Booth, client: FlaskClient):
    response = client.get("/api/v1/sync/pull?cursor=999999", headers=booth.tablet.headers)
    assert response.status_code == 410 and response.json["errors"]["min_cursor"] == 0


def test_push_limits(booth: Booth, client: FlaskClient):
    too_many = push_body(booth.staff.id, count=101)
    assert _push(client, booth.tablet, too_many).status_code == 422
    disordered = {"mutations": [create_mutation(i, booth.staff.id) for i in (2, 1)]}
    assert _push(client, booth.tablet, disordered).status_code == 422
