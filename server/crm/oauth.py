"""Access tokens obtained with an OAuth refresh token, kept in memory and renewed when due.

Salesforce (connected app) and HubSpot (OAuth app) both answer a form-encoded
``grant_type=refresh_token`` POST with an access token; HubSpot says how long it lasts
(``expires_in``) and may hand out a new refresh token, Salesforce gives no lifetime (the
session lasts as the org's policy says) and names the instance to call. The access token
is never stored: a connector asks for it before each call, and after a 401 asks for a
fresh one once. A refused refresh token (400 invalid_grant) cannot heal by waiting: the
CRM must be reconnected; the token endpoint's own failures and timeouts are retried.
Error texts name the CRM, the status and the OAuth error code, never a credential.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from server.crm.base import RETRYABLE_STATUSES, CrmError

# Renew this long before the CRM's stated expiry (at most half the lifetime), so a call
# never starts with a token about to lapse.
EXPIRY_MARGIN_SECONDS = 60.0
# OAuth error codes are short words ("invalid_grant", "BAD_REFRESH_TOKEN"); anything else
# an answer says is left out of the error text.
_CODE = re.compile(r"^[A-Za-z_]{1,40}$")


class RefreshingToken:
    """One connection's refresh-token credentials and the access token they last obtained."""

    def __init__(
        self,
        crm: str,
        token_url: str,
        secrets: dict[str, Any],
        timeout: float,
        on_new_refresh_token: Callable[[str], None] | None = None,
        allowed_url: Callable[[str], bool] | None = None,
    ):
        self.crm = crm
        self.token_url = token_url
        self.timeout = timeout
        self._client_id = secrets["client_id"]
        self._client_secret = secrets["client_secret"]
        self._refresh_token = secrets["refresh_token"]
        self._on_new_refresh_token = on_new_refresh_token
        self._allowed_url = allowed_url
        self._lock = threading.Lock()
        self._session = requests.Session()
        # An access token given with the refresh token is used until the CRM refuses it.
        self._access: str | None = secrets.get("token") or None
        self._expires_at: float | None = None
        # What the token endpoint answered besides the token (Salesforce: instance_url).
        self.answer: dict[str, Any] = {}

    def instance_allowed(self, url: str) -> bool:
        """Tell whether an address the token answer names may be called (as the CRM's is)."""
        return self._allowed_url is None or self._allowed_url(url)

    def current(self) -> str:
        """Return an access token that is not about to expire, obtaining one if needed."""
        with self._lock:
            if self._access is None or (
                self._expires_at is not None and time.monotonic() >= self._expires_at
            ):
                self._obtain()
            assert self._access is not None
            return self._access

    def refresh(self, refused: str) -> str:
        """Return a new access token after the CRM refused the token refused (once per token)."""
        with self._lock:
            # Another thread may have renewed it since the call that failed was made.
            if self._access == refused or self._access is None:
                self._obtain()
            assert self._access is not None
            return self._access

    def _obtain(self) -> None:
        form = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }
        try:
            response = self._session.post(
                self.token_url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except (requests.RequestException, OSError) as error:
            raise CrmError(
                f"{self.crm}: {type(error).__name__} on token refresh", retryable=True
            ) from None
        body = _json(response)
        if response.status_code != 200:
            raise _refused(self.crm, response.status_code, body, response.headers)
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise CrmError(
                f"{self.crm}: token refresh answered without an access token", retryable=True
            )
        self._access = access
        self.answer = {k: v for k, v in body.items() if k not in ("access_token", "refresh_token")}
        lifetime = body.get("expires_in")
        if isinstance(lifetime, (int, float)) and lifetime > 0:
            margin = min(EXPIRY_MARGIN_SECONDS, lifetime / 2)
            self._expires_at = time.monotonic() + lifetime - margin
        else:
            self._expires_at = None  # good until the CRM answers 401
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
            self._refresh_token = rotated
            if self._on_new_refresh_token is not None:
                self._on_new_refresh_token(rotated)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refused(crm: str, status: int, body: dict[str, Any], headers: Any) -> CrmError:
    """Return the CrmError for a token endpoint's answer other than 200."""
    code = body.get("error") or body.get("status") or ""
    code = code if isinstance(code, str) and _CODE.match(code) else ""
    named = f" {code}" if code else ""
    if status >= 500 or status in RETRYABLE_STATUSES:
        return CrmError(
            f"{crm}: {status}{named} on token refresh",
            retryable=True,
            status=status,
            retry_after=headers.get("Retry-After"),
        )
    return CrmError(
        f"{crm}: {status}{named} on token refresh: the refresh token or the app's client id "
        "and secret were refused; reconnect the CRM",
        retryable=False,
        status=status,
    )
