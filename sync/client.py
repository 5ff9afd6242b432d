"""Talk to the server's sync API: pair, push the outbox, pull changes (docs/sync-protocol.md).

SyncClient does one sync at a time and raises on failure; deciding when to sync and
how long to wait after a failure is the worker's job (sync/worker.py).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec
import requests

from sync.store import DeviceStore

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "Leadbridge-Protocol"
PUSH_BATCH = 100
PULL_LIMIT = 1000  # the server's maximum page
PHOTO_CHUNK = 256 * 1024  # a chunk lost to a cut connection costs at most this much again
ATTACHMENTS = "/api/v1/sync/attachments"
# Errors that may pass if we wait: the server is busy, restarting or rate limiting us.
RETRYABLE_STATUSES = frozenset({408, 429})


# How a failed sync that never reached the server starts its message.
UNREACHABLE = "Cannot reach the server"


class SyncError(Exception):
    """A sync that did not complete; the message is fit for a status line."""


class Unpaired(SyncError):
    """The server refused the token (401): the tablet was revoked or never paired.

    wipe is true when the server says the tablet was revoked and must delete its data.
    """

    def __init__(self, message: str, *, wipe: bool = False):
        super().__init__(message)
        self.wipe = wipe


class UpgradeRequired(SyncError):
    """The server no longer speaks this app's protocol version (426)."""


class RetryableError(SyncError):
    """A failure that may pass: no network, a timeout, 5xx, 408 or 429."""

    def __init__(self, message: str, retry_after: str | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ProtocolError(SyncError):
    """An answer retrying cannot fix (409, another 4xx, or a malformed body)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.errors = errors or {}
        expected = self.errors.get("expected_mutation_id")
        self.expected_mutation_id: int | None = expected if isinstance(expected, int) else None


class PairingRefused(ProtocolError):
    """The pairing code is unknown, used or expired, or the event is not active."""


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    pushed: int = 0
    rejected: int = 0
    pulled: int = 0
    conflicts: int = 0
    photos: int = 0


def _error_body(response: requests.Response) -> tuple[str, dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        return str(body.get("message") or response.reason), errors if isinstance(
            errors, dict
        ) else {}
    return f"{response.status_code} {response.reason}", {}


def _raise_for(response: requests.Response) -> None:
    """Raise the SyncError an unsuccessful answer stands for."""
    status = response.status_code
    if status < 400:
        return
    message, errors = _error_body(response)
    if status == 401:
        raise Unpaired(message, wipe=errors.get("wipe") is True)
    if status == 426:
        raise UpgradeRequired(message)
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise RetryableError(f"{status}: {message}", response.headers.get("Retry-After"))
    raise ProtocolError(f"{status}: {message}", status=status, errors=errors)


def _json(response: requests.Response) -> dict[str, Any]:
    # msgspec, not the json module: a pull page of 1,000 leads decodes several times faster.
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        body = None
    if not isinstance(body, dict):
        raise ProtocolError(
            "The server's answer is not a JSON object.", status=response.status_code
        )
    return body


def _send(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    try:
        return session.request(method, url, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as error:
        # Plain words: the status line shows this to booth staff.
        reason = "no answer in time" if isinstance(error, requests.Timeout) else "no connection"
        raise RetryableError(f"{UNREACHABLE} ({reason})") from error
    except requests.RequestException as error:
        raise ProtocolError(f"The request failed: {error}") from error


class SyncClient:
    """Push the store's outbox and pull changes into it, over one HTTP session."""

    def __init__(
        self,
        store: DeviceStore,
        *,
        session: requests.Session | None = None,
        timeout: float = 15.0,
    ):
        self.store = store
        self.timeout = timeout
        self._owns_session = session is None
        self.session = session or requests.Session()

    def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        pairing = self.store.pairing()
        if pairing is None:
            raise Unpaired("This tablet is not paired with a server.")
        # Per request, not on the session: a re-pairing changes the token mid-life, and a
        # session passed in by the caller is left as it was.
        headers = {
            **(headers or {}),
            "Authorization": f"Bearer {pairing['token']}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        }
        response = _send(
            self.session,
            method,
            pairing["server_url"] + path,
            headers=headers,
            timeout=self.timeout,
            **kwargs,
        )
        with response:
            try:
                _raise_for(response)
            except Unpaired as error:
                if error.wipe:
                    # Revoked: the tablet keeps nothing (leads, outbox, drafts, key file).
                    self.store.wipe()
                self.store.mark_unpaired(str(error))
                raise
            return _json(response)

    def status(self) -> dict[str, Any]:
        """Return the server's view of this tablet (GET /api/v1/sync/status)."""
        return self._request("GET", "/api/v1/sync/status")

    def push(self) -> SyncReport:
        """Send the outbox in batches until it is empty; return what happened."""
        pushed = rejected = conflicts = 0
        batch = PUSH_BATCH
        while True:
            mutations = self.store.pending_mutations(batch)
            if not mutations:
                break
            try:
                body = self._request("POST", "/api/v1/sync/push", json={"mutations": mutations})
            except ProtocolError as error:
                if error.status == 413 and batch > 1:
                    batch = max(1, batch // 2)  # too many bytes: send fewer at a time
                    continue
                raise
            results = body.get("results")
            if not isinstance(results, list):
                raise ProtocolError("The push answer has no results.", status=200)
            sent = {mutation["mutation_id"] for mutation in mutations}
            handled = [r for r in results if isinstance(r, dict) and r.get("mutation_id") in sent]
            self.store.apply_push_results(handled)
            if not handled:
                # Nothing left the outbox: looping would send the same batch forever.
                raise ProtocolError("The server handled none of the pushed mutations.", status=200)
            for result in handled:
                if result.get("outcome") == "rejected":
                    rejected += 1
                else:
                    pushed += 1
                conflicts += len(result.get("conflicts") or [])
        return SyncReport(pushed=pushed, rejected=rejected, conflicts=conflicts)

    def _fetch_page(self, cursor: int) -> dict[str, Any]:
        body = self._request(
            "GET", "/api/v1/sync/pull", params={"cursor": cursor, "limit": PULL_LIMIT}
        )
        if not isinstance(body.get("changes"), list) or not isinstance(
            body.get("next_cursor"), int
        ):
            raise ProtocolError("The pull answer is malformed.", status=200)
        return body

    def pull(self) -> int:
        """Page through the server's changes since the cursor; return how many were applied.

        The next page is fetched while this one is being applied (the server names the
        next cursor in its answer), so server and tablet work at the same time.
        """
        pulled = 0
        restarted = False
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pull-prefetch") as prefetch:
            ahead: Future[dict[str, Any]] | None = None
            while True:
                cursor = self.store.cursor()
                try:
                    body = ahead.result() if ahead is not None else self._fetch_page(cursor)
                except ProtocolError as error:
                    if error.status == 410 and not restarted:
                        # The server lost or pruned history: download everything again.
                        restarted, ahead = True, None
                        self.store.reset_cursor()
                        continue
                    raise
                next_cursor = body["next_cursor"]
                more = bool(body.get("has_more"))
                if more and next_cursor <= cursor:
                    raise ProtocolError("The pull cursor did not advance.", status=200)
                ahead = prefetch.submit(self._fetch_page, next_cursor) if more else None
                self.store.apply_pull_page(body["changes"], next_cursor)
                pulled += len(body["changes"])
                if not more:
                    return pulled

    def _upload_photo(self, lead_id: str, sha256: str, size: int) -> None:
        """Send one photo from where the server's copy ends; raise SyncError on failure."""
        path = f"{ATTACHMENTS}/{lead_id}/{sha256}"
        state = self._request(
            "POST", ATTACHMENTS, json={"lead_id": lead_id, "sha256": sha256, "size": size}
        )
        data = self.store.card_photo_bytes(lead_id, sha256)
        offset, restarted = int(state.get("received") or 0), False
        # Bounded: every round either moves the offset forward or follows the server's.
        for _ in range(3 * (size // PHOTO_CHUNK + 2)):
            if state.get("complete"):
                self.store.mark_photo_uploaded(lead_id, sha256)
                return
            try:
                state = self._request(
                    "PUT",
                    path,
                    params={"offset": offset},
                    data=data[offset : offset + PHOTO_CHUNK],
                    headers={"Content-Type": "application/octet-stream"},
                )
            except ProtocolError as error:
                told = error.errors.get("offset")
                if error.status == 409 and isinstance(told, int):
                    offset = told  # the server holds more (or less) than we thought
                    continue
                if error.status == 422 and told == 0 and not restarted:
                    offset, restarted = 0, True  # bytes spoilt on the way: once more
                    continue
                raise
            offset = int(state.get("received") or 0)
        raise ProtocolError("The photo upload made no progress.", status=200)

    def upload_photos(self) -> int:
        """Upload the card photos of leads the server holds; return how many arrived whole.

        Runs after the push, so a photo never delays its lead. A cut connection stops the
        round (the next sync asks the server how much it holds and sends the rest); a photo
        the server refuses for good is set aside, and one whose lead was erased is deleted.
        """
        uploaded = 0
        for photo in self.store.photos_to_upload():
            lead_id, sha256 = photo["lead_id"], photo["sha256"]
            try:
                self._upload_photo(lead_id, sha256, photo["size"])
            except RetryableError:
                break
            except ProtocolError as error:
                if error.status == 410:
                    self.store.drop_card_photo(lead_id, sha256)
                elif error.status != 404:  # 404: the lead is not on the server yet
                    self.store.mark_photo_failed(lead_id, sha256, str(error))
                continue
            uploaded += 1
        return uploaded

    def sync_once(self) -> SyncReport:
        """Push, upload photos, then pull; record the outcome in the store and return it."""
        try:
            pushed = self.push()
            photos = self.upload_photos()
            pulled = self.pull()
            status = self.status()
        except SyncError as error:
            self.store.note_sync_error(str(error))
            raise
        total, today = status.get("booth_leads_total"), status.get("booth_leads_today")
        if isinstance(total, int) and isinstance(today, int):
            self.store.note_booth_counts(total, today)
        # Newer servers name the tablet; a manager may have renamed it there.
        name = status.get("device_name")
        if isinstance(name, str) and name:
            self.store.note_device_name(name)
        self.store.note_sync_success()
        # Leads the server has held for the retention period leave the tablet.
        self.store.purge_expired()
        return SyncReport(
            pushed=pushed.pushed,
            rejected=pushed.rejected,
            pulled=pulled,
            conflicts=pushed.conflicts,
            photos=photos,
        )


def pair(
    store: DeviceStore,
    server_url: str,
    code: str,
    name: str,
    *,
    session: requests.Session | None = None,
    timeout: float = 15.0,
) -> dict[str, Any]:
    """Pair this tablet with a code, store the token and event, and pull once.

    Returns the stored pairing. A first pull that fails for a passing reason is
    left to the worker: the code is spent, so pairing itself has succeeded.
    """
    server_url = server_url.rstrip("/")
    owned = session is None
    http = session or requests.Session()
    try:
        response = _send(
            http,
            "POST",
            f"{server_url}/api/v1/devices/pair",
            json={"code": code, "name": name},
            headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
            timeout=timeout,
        )
        with response:
            if response.status_code in (401, 409, 422):
                message, errors = _error_body(response)
                raise PairingRefused(message, status=response.status_code, errors=errors)
            _raise_for(response)
            body = _json(response)
        try:
            token, device, event = body["token"], body["device"], body["event"]
            store.set_pairing(
                server_url,
                device["id"],
                device["event_id"],
                token,
                event,
                device_name=device.get("name"),
            )
        except (KeyError, TypeError) as error:
            raise ProtocolError("The pairing answer is malformed.", status=200) from error
        client = SyncClient(store, session=http, timeout=timeout)
        try:
            client.pull()
            store.note_sync_success()
        except RetryableError as error:
            store.note_sync_error(str(error))
    finally:
        if owned:
            http.close()
    pairing = store.pairing()
    assert pairing is not None
    return pairing
