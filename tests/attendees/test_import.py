"""Importing the organiser's list through the web pages: mapping, preview, re-import, access."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.attendees.importing import import_rows
from server.attendees.models import Attendee, AttendeeImport, ImportStatus
from server.events.models import Event
from server.extensions import db
from server.users.models import Role
from tests.attendees.lists import (
    MAPPING,
    csv_bytes,
    import_list,
    people,
    start,
    upload,
    web_client,
    xlsx_bytes,
)
from tests.helpers import ApiHelper, Booth


def attendees_of(app: Flask, event_id: int) -> dict[str, Attendee]:
    with app.app_context():
        rows = db.session.scalars(
            select(Attendee).where(Attendee.event_id == event_id, Attendee.removed.is_(False))
        ).all()
        db.session.expunge_all()
    return {row.badge_id or "": row for row in rows}


@pytest.fixture
def manager(api: ApiHelper, booth: Booth):
    """The booth's marketer, on the event's team (managers of that event import its list)."""
    api.add_member(booth.admin, booth.event["id"], booth.marketer.id)
    return booth.marketer


def test_csv_import_previews_maps_and_reimports_without_duplicates(
    app: Flask, booth: Booth, manager
) -> None:
    client = web_client(app, manager)
    event_id = booth.event["id"]
    rows = people(12)
    uploaded = upload(client, event_id, csv_bytes(rows, delimiter=";"), "export.csv")
    assert uploaded.status_code == 302
    page = client.get(uploaded.location).get_data(as_text=True)
    # The preview shows the first rows, and the headings are guessed into the selects.
    assert "Ann1001" in page and "Ann1005" in page and "Ann1006" not in page
    assert '<option value="Registration ID" selected>' in page
    assert start(client, uploaded.location, MAPPING).status_code == 302
    from tests.attendees.lists import wait_done

    first = wait_done(client, uploaded.location)
    assert first["status"] == "done", first
    assert (first["rows_read"], first["inserted"], first["updated"]) == (12, 12, 0)
    stored = attendees_of(app, event_id)
    # REG- is no prefix rule yet: the id is kept whole, upper-cased.
    assert set(stored) == {f"REG-{n}" for n in range(1001, 1013)}
    ann = stored["REG-1001"]
    assert (ann.first_name, ann.last_name, ann.email) == (
        "Ann1001",
        "Müller1001",
        "ann1001@example-corp.com",
    )
    assert ann.phone == "030 1235001" and ann.company == "Corp 1001"

    # The organiser's next export: one changed, one new, the rest as before.
    rows[0][4] = "New Corp"
    again = import_list(client, event_id, csv_bytes([*rows, *people(1, start=2001)]))
    assert again["status"] == "done", again
    assert (again["inserted"], again["updated"], again["unchanged"]) == (1, 1, 11)
    stored = attendees_of(app, event_id)
    assert len(stored) == 13 and stored["REG-1001"].company == "New Corp"
    # Unchanged rows keep their versions: tablets are not sent them again.
    assert stored["REG-1002"].server_version == ann.server_version + 1


def test_xlsx_import_streams_the_first_sheet(app: Flask, booth: Booth, manager) -> None:
    client = web_client(app, manager)
    rows = [
        [1001.0, "Åsa", "Öberg", "ASA@Example-Corp.com", "Corp", "CEO", None],
        [None, "No", "Id"],
    ]
    done = import_list(client, booth.event["id"], xlsx_bytes(rows), "list.xlsx")
    assert done["status"] == "done", done
    assert (done["inserted"], done["skipped"]) == (1, 1)
    stored = attendees_of(app, booth.event["id"])
    # A number typed into the sheet comes back as 1001.0: it is still badge 1001.
    assert list(stored) == ["1001"]
    assert (stored["1001"].first_name, stored["1001"].email) == ("Åsa", "asa@example-corp.com")


def test_mapping_errors_are_shown_on_the_form_and_nothing_is_imported(
    app: Flask, booth: Booth, manager
) -> None:
    client = web_client(app, manager)
    uploaded = upload(client, booth.event["id"], csv_bytes(people(3)), "export.csv")
    page = uploaded.location
    no_id = start(client, page, {**MAPPING, "badge_id": ""})
    assert no_id.status_code == 422
    assert "Choose the column that holds the badge id." in no_id.get_data(as_text=True)
    twice = start(client, page, {**MAPPING, "last_name": "First Name"})
    assert twice.status_code == 422
    assert "That column is already chosen for First name." in twice.get_data(as_text=True)
    missing = start(client, page, {**MAPPING, "company": "Firma"})
    assert missing.status_code == 422
    assert "The file has no column named" in missing.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attendee)) == 0
        job = db.session.scalars(select(AttendeeImport)).one()
        assert job.status == ImportStatus.UPLOADED  # still waiting for a usable mapping


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.csv", "The file is empty"),
        (b"\n\n", "blank.csv", "The file is empty"),
        (b"id,id\n1,2\n", "dup.csv", "Two columns have the same heading"),
        (b"\xd0\xcf\x11\xe0old excel", "old.xls", "Save the sheet as XLSX"),
        (b"PK\x03\x04broken", "broken.xlsx", "This XLSX file cannot be opened"),
    ],
)
def test_files_that_are_no_table_get_a_form_error(
    app: Flask, booth: Booth, manager, data: bytes, filename: str, message: str
) -> None:
    client = web_client(app, manager)
    response = upload(client, booth.event["id"], data, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AttendeeImport)) == 0


def test_an_upload_without_a_file_is_a_form_error(app: Flask, booth: Booth, manager) -> None:
    client = web_client(app, manager)
    from tests.web.webclient import csrf_token

    token = csrf_token(client, f"/web/events/{booth.event['id']}/attendees")
    response = client.post(
        f"/web/events/{booth.event['id']}/attendees/upload",
        data={"csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Choose the organiser" in response.get_data(as_text=True)


def test_only_managers_of_the_event_see_or_import_its_list(
    app: Flask, api: ApiHelper, booth: Booth, manager
) -> None:
    event_id = booth.event["id"]
    path = f"/web/events/{event_id}/attendees"
    outsider = api.person(Role.MARKETER)  # a marketer, but not on this event's team
    api.add_member(booth.admin, event_id, booth.rep.id)
    assert web_client(app, booth.admin).get(path).status_code == 200
    assert web_client(app, manager).get(path).status_code == 200
    outsider_client = web_client(app, outsider)
    assert outsider_client.get(path).status_code == 403
    assert web_client(app, booth.rep).get(path).status_code == 403
    # Nor may the outsider upload, nor read another manager's import.
    uploaded = upload(web_client(app, manager), event_id, csv_bytes(people(2)), "a.csv")
    assert uploaded.status_code == 302
    assert outsider_client.get(uploaded.location).status_code == 403
    assert outsider_client.get(uploaded.location + ".json").status_code == 403
    refused = upload(outsider_client, event_id, csv_bytes(people(2)), "b.csv")
    assert refused.status_code == 403
    anonymous = app.test_client().get(uploaded.location)
    assert anonymous.status_code == 302 and "/web/login" in anonymous.location
    # A job of another event is not found under this one.
    other = api.event(booth.admin, name="Other Expo")
    assert (
        web_client(app, booth.admin)
        .get(uploaded.location.replace(f"/events/{event_id}/", f"/events/{other['id']}/"))
        .status_code
        == 404
    )


def test_an_import_commits_batch_by_batch_with_its_progress(app: Flask, booth: Booth) -> None:
    with app.app_context():
        event = db.session.get_one(Event, booth.event["id"])
        job = AttendeeImport(
            event_id=event.id,
            filename="big.csv",
            file_format="csv",
            stored_name="none",
            mapping={},
            status=ImportStatus.RUNNING,
        )
        db.session.add(job)
        db.session.commit()
        seen: list[int] = []
        rows = ({"badge_id": f"B{n}", "first_name": f"P{n}"} for n in range(35))

        def watched():
            for number, row in enumerate(rows):
                if number % 10 == 0:
                    # What another request (the polling page) sees of the job right now.
                    with db.engine.connect() as other:
                        seen.append(
                            other.execute(
                                select(AttendeeImport.rows_read).where(AttendeeImport.id == job.id)
                            ).scalar_one()
                        )
                yield row

        import_rows(event, watched(), job, batch_rows=10)
        assert seen == [0, 10, 20, 30]
        assert (job.rows_read, job.inserted) == (35, 35)
        assert db.session.scalar(select(func.count()).select_from(Attendee)) == 35


def test_badge_rules_are_checked_and_reach_the_event(app: Flask, booth: Booth, manager) -> None:
    client = web_client(app, manager)
    from tests.web.webclient import post_form

    path = f"/web/events/{booth.event['id']}/attendees"
    bad = post_form(
        client, path + "/rules", {"prefix": "REG-", "url_pattern": "https://x/b/"}, path
    )
    assert bad.status_code == 422
    assert "Put {id} once" in bad.get_data(as_text=True)
    good = post_form(
        client,
        path + "/rules",
        {"prefix": "REG-", "url_pattern": "https://reg.example.com/b/{id}"},
        path,
    )
    assert good.status_code == 302
    with app.app_context():
        event = db.session.get_one(Event, booth.event["id"])
        assert event.badge_rules == {
            "prefix": "REG-",
            "url_pattern": "https://reg.example.com/b/{id}",
        }
    # An import now strips the prefix, as a scan will.
    done = import_list(client, booth.event["id"], csv_bytes(people(2)))
    assert set(attendees_of(app, booth.event["id"])) == {"1001", "1002"}, done


def test_an_id_again_in_a_later_batch_of_a_first_import_updates_its_row(
    app: Flask, booth: Booth
) -> None:
    with app.app_context():
        event = db.session.get_one(Event, booth.event["id"])
        job = AttendeeImport(
            event_id=event.id,
            filename="twice.csv",
            file_format="csv",
            stored_name="none",
            mapping={},
            status=ImportStatus.RUNNING,
        )
        db.session.add(job)
        db.session.commit()
        rows = [{"badge_id": f"B{n}", "first_name": f"P{n}"} for n in range(12)]
        rows.append({"badge_id": "b3", "first_name": "Later"})  # B3 again, two batches on
        import_rows(event, rows, job, batch_rows=5)
        assert (job.inserted, job.updated) == (12, 1)
        names = db.session.scalars(select(Attendee.first_name).where(Attendee.badge_id == "B3"))
        assert list(names) == ["Later"]


def test_an_import_whose_process_stopped_is_shown_as_failed(
    app: Flask, booth: Booth, manager
) -> None:
    from datetime import timedelta

    from server.db_types import utcnow

    with app.app_context():
        job = AttendeeImport(
            event_id=booth.event["id"],
            filename="cut.csv",
            file_format="csv",
            stored_name="gone",
            mapping={"badge_id": "id"},
            status=ImportStatus.RUNNING,
            rows_read=30_000,
            updated_at=utcnow() - timedelta(minutes=6),
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    client = web_client(app, manager)
    progress = client.get(f"/web/events/{booth.event['id']}/attendees/imports/{job_id}.json")
    assert progress.json["status"] == "failed"
    assert "stopped before its end" in progress.json["error"]
    assert progress.json["rows_read"] == 30_000


def test_an_upload_never_mapped_is_deleted_a_day_later(app: Flask, booth: Booth, manager) -> None:
    from datetime import timedelta

    from server.attendees.jobs import upload_dir
    from server.db_types import utcnow

    client = web_client(app, manager)
    first = upload(client, booth.event["id"], csv_bytes(people(3)), "forgotten.csv")
    with app.app_context():
        job = db.session.scalars(select(AttendeeImport)).one()
        kept = upload_dir(app) / job.stored_name
        assert kept.exists()
        job.created_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    # The next upload of any list clears it away.
    assert upload(client, booth.event["id"], csv_bytes(people(1)), "next.csv").status_code == 302
    assert not kept.exists()
    progress = client.get(first.location + ".json").json
    assert progress["status"] == "failed" and "never imported" in progress["error"]
