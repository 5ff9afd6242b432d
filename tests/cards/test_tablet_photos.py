"""Card photos on the tablet: sealed, uploaded after the push over a real (cut) connection,
resumed without re-sending, exactly once, suggestions by pull, deleted with the lead."""

from __future__ import annotations

import base64
import http.client
import io
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from server.alerts.models import AlertJob, AlertKind
from server.attachments.storage import DiskStorage
from sync.card_photo import MAX_SIDE, prepare_photo
from sync.client import SyncClient
from sync.crypto import PREFIX
from sync.store import DeviceStore
from tests.cards.conftest import sha256
from tests.helpers import Booth

REPO = Path(__file__).resolve().parents[2]
PHOTO = random.Random(16).randbytes(700_000)  # three chunks of 256 KiB, the last shorter


class CuttingProxy:
    """Forward HTTP to upstream; cut the connection of chosen chunk uploads (PUTs).

    cut_body: the Nth PUT's connection is closed after half its body reached the server, so
    the server never gets the whole chunk. lose_answer: the Nth PUT reaches the server whole,
    and its answer is lost. Counts the body bytes of every PUT forwarded whole.
    """

    def __init__(self, upstream: str, *, cut_body: int = 0, lose_answer: int = 0):
        self.upstream = urlsplit(upstream)
        self.cut_body, self.lose_answer = cut_body, lose_answer
        self.puts = 0
        self.put_bytes = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    if self.command == "PUT":
                        proxy.puts += 1
                    number = proxy.puts if self.command == "PUT" else 0
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("connection",)
                }
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                if number and number == proxy.cut_body:
                    # Half the chunk, then the line goes dead for both ends.
                    upstream.putrequest(self.command, self.path, skip_accept_encoding=True)
                    for key, value in headers.items():
                        upstream.putheader(key, value)
                    upstream.endheaders()
                    upstream.send(body[: len(body) // 2])
                    upstream.close()
                    self.close_connection = True
                    return
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                upstream.close()
                if self.command == "PUT":
                    with proxy.lock:
                        proxy.put_bytes += len(body)
                if number and number == proxy.lose_answer:
                    self.close_connection = True
                    return
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "content-length", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _forward  # noqa: N815

        return Handler

    def __enter__(self) -> CuttingProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _lead(booth: Booth, **overrides: Any) -> dict[str, Any]:
    fields = {
        "captured_by_id": booth.staff.id,
        "company": "Typed GmbH",
        "email": f"card.{random.random()}@example.com",
        "answers": {"budget": True},
    }
    return {**fields, **overrides}


@pytest.fixture
def tablet(tmp_path: Path) -> Iterator[DeviceStore]:
    store = DeviceStore(tmp_path / "tablet.sqlite3")
    yield store
    store.close()


def _pair(store: DeviceStore, booth: Booth, url: str) -> None:
    store.set_pairing(url, booth.tablet.id, booth.event["id"], booth.tablet.token, booth.event)


def _reading_jobs(app: Flask) -> int:
    from server.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(AlertJob.kind == AlertKind.CARD_READING)
        )


def test_a_connection_cut_mid_chunk_resumes_without_sending_stored_bytes_again(
    app: Flask, booth: Booth, live_server: str, tablet: DeviceStore, blobs: DiskStorage
) -> None:
    with CuttingProxy(live_server, cut_body=2) as proxy:
        _pair(tablet, booth, proxy.url)
        lead_id = tablet.save_lead(_lead(booth))
        tablet.add_card_photo(lead_id, PHOTO)
        with SyncClient(tablet, timeout=10.0) as client:
            first = client.sync_once()  # the lead goes; its photo is cut in the second chunk
            assert first.pushed == 1 and first.photos == 0
            assert tablet.lead_state(tablet.get_lead(lead_id)) != "pending"
            assert tablet.photos_waiting() == 1
            second = client.sync_once()
        assert second.photos == 1
        # Chunk 1 once, chunk 2 (cut, stored nothing) whole once more, chunk 3 once.
        assert proxy.put_bytes == len(PHOTO)
    assert blobs.read(sha256(PHOTO)) == PHOTO
    assert tablet.photos_waiting() == 0 and tablet.card_photos(lead_id)[0]["uploaded"]
    assert _reading_jobs(app) == 1


def test_a_lost_answer_to_the_last_chunk_is_not_uploaded_or_read_twice(
    app: Flask, booth: Booth, live_server: str, tablet: DeviceStore, blobs: DiskStorage
) -> None:
    with CuttingProxy(live_server, lose_answer=3) as proxy:
        _pair(tablet, booth, proxy.url)
        lead_id = tablet.save_lead(_lead(booth))
        tablet.add_card_photo(lead_id, PHOTO)
        with SyncClient(tablet, timeout=10.0) as client:
            assert client.sync_once().photos == 0  # the server has it all; we did not hear
            assert client.sync_once().photos == 1  # asked, told complete: nothing re-sent
        assert proxy.put_bytes == len(PHOTO)
    assert _reading_jobs(app) == 1
    assert tablet.photos_waiting() == 0


def test_photos_are_sealed_at_rest_and_deleted_with_their_lead(
    tablet: DeviceStore, booth: Booth
) -> None:
    lead_id = tablet.save_lead(_lead(booth))
    digest = tablet.add_card_photo(lead_id, PHOTO)
    assert tablet.add_card_photo(lead_id, PHOTO) == digest  # the same photo once
    assert tablet.card_photo_bytes(lead_id, digest) == PHOTO
    with tablet._reading() as conn:  # raw rows: is the photo readable without the key?
        raw = conn.execute("SELECT data FROM card_photos").fetchall()
    plain = base64.b64encode(PHOTO[:48]).decode()
    assert len(raw) == 1 and raw[0][0].startswith(PREFIX) and plain not in raw[0][0]
    tablet.apply_pull_page([{"kind": "erasure", "version": 5, "data": {"id": lead_id}}], 5)
    assert tablet.card_photos(lead_id) == []
    with tablet._reading() as conn:
        assert conn.execute("SELECT COUNT(*) FROM card_photos").fetchone()[0] == 0


def test_pulled_suggestions_are_offered_only_for_fields_staff_left_empty(
    tablet: DeviceStore, booth: Booth
) -> None:
    lead_id = tablet.save_lead(_lead(booth, first_name=None))
    digest = tablet.add_card_photo(lead_id, PHOTO)
    suggestions = {"first_name": "Märta", "company": "Älvdal Sensor AB", "phone": "+468199837"}
    change = {"lead_id": lead_id, "sha256": digest, "suggestions": suggestions}
    tablet.apply_pull_page([{"kind": "card", "version": 9, "data": change}], 9)
    assert tablet.card_suggestions(lead_id) == {"first_name": "Märta", "phone": "+468199837"}
    assert tablet.get_lead(lead_id)["company"] == "Typed GmbH"  # never overwritten
    assert tablet.cursor() == 9


def test_photos_are_scaled_to_at_most_1600_pixels_as_jpeg() -> None:
    big = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 180, 160)).save(big, "PNG")
    prepared = prepare_photo(big.getvalue())
    with Image.open(io.BytesIO(prepared)) as picture:
        assert picture.format == "JPEG" and max(picture.size) == MAX_SIDE
        assert picture.size == (1600, 1200)


PHOTOGRAPHER = textwrap.dedent(
    """
    import sys
    from sync.store import DeviceStore
    store = DeviceStore(sys.argv[1])
    lead_id, count = sys.argv[2], int(sys.argv[3])
    for index in range(count):
        photo = index.to_bytes(4, "big") * 150_000  # 600 kB each, all different
        print(store.add_card_photo(lead_id, photo), flush=True)
    """
)


def test_a_tablet_killed_while_saving_photos_loses_nothing_else_and_recovers(
    tablet: DeviceStore, booth: Booth, tmp_path: Path
) -> None:
    leads = [tablet.save_lead(_lead(booth)) for _ in range(3)]
    before = {lead_id: tablet.get_lead(lead_id) for lead_id in leads}
    outbox = tablet.outbox_size()
    path = tablet.path
    tablet.close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", PHOTOGRAPHER, str(path), leads[0], "40"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    saved = [process.stdout.readline().strip() for _ in range(2)]
    time.sleep(random.Random(5).uniform(0.0, 0.05))
    process.send_signal(signal.SIGKILL)
    rest, _ = process.communicate()
    saved += [line for line in rest.splitlines() if len(line) == 64]
    assert process.returncode == -signal.SIGKILL
    store = DeviceStore(path)
    try:
        with store._reading() as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert {lead_id: store.get_lead(lead_id) for lead_id in leads} == before
        assert store.outbox_size() == outbox
        photos = store.card_photos(leads[0])
        kept = {photo["sha256"] for photo in photos}
        assert set(saved) <= kept and len(kept - set(saved)) <= 1  # at most the one in flight
        for photo in photos:  # every photo kept is whole
            data = store.card_photo_bytes(leads[0], photo["sha256"])
            assert sha256(data) == photo["sha256"] and len(data) == photo["size"]
        # And the tablet goes on: the next photo saves as usual.
        assert store.add_card_photo(leads[1], PHOTO) == sha256(PHOTO)
    finally:
        store.close()


def test_photos_of_leads_the_server_erased_are_dropped_at_upload(
    app: Flask,
    client: FlaskClient,
    booth: Booth,
    live_server: str,
    tablet: DeviceStore,
    blobs: DiskStorage,
) -> None:
    _pair(tablet, booth, live_server)
    lead = _lead(booth)
    lead_id = tablet.save_lead(lead)
    with SyncClient(tablet, timeout=10.0) as sync:
        sync.push()
        tablet.add_card_photo(lead_id, PHOTO)
        erased = client.post(
            "/api/v1/privacy/erase",
            json={"email": lead["email"], "confirm": True},
            headers=booth.admin.headers,
        )
        assert erased.json["leads_erased"] == 1
        assert sync.upload_photos() == 0
    assert tablet.card_photos(lead_id) == []
