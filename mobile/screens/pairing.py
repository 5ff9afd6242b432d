"""Pair the tablet with an event: server address and the manager's pairing code.

Typed, or read from the QR code the web page shows beside the code (sync/pairing_link.py),
which pairs at once.
"""

from __future__ import annotations

import threading

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile.scan_session import ScanSession
from sync.client import PairingRefused, RetryableError, SyncError, pair
from sync.pairing_link import PairingLink, parse_pairing_link


def pairing_error(error: Exception, server_url: str) -> str:
    """Return what to tell the user when pairing failed."""
    if isinstance(error, PairingRefused):
        return str(error)
    if isinstance(error, RetryableError):
        return f"Cannot reach {server_url}. Check the address and the network."
    if isinstance(error, SyncError):
        return f"The server did not accept the pairing: {error}"
    return f"Pairing failed: {error}"


class PairingScreen(Screen):
    """Ask for the server and the pairing code, and pair off the UI thread."""

    busy = BooleanProperty(False)
    scanning = BooleanProperty(False)
    message = StringProperty("")

    def __init__(self, **kwargs: object):
        super().__init__(**kwargs)
        self._scan = ScanSession(
            parse_pairing_link, self._scanned, lambda active: setattr(self, "scanning", active)
        )

    def on_leave(self) -> None:
        """Turn the camera off when the screen goes."""
        self.stop_scan()

    def toggle_scan(self) -> None:
        """Start or stop looking for the pairing QR code."""
        if self.scanning:
            self.stop_scan()
            return
        if not self._scan.start(self.ids.preview):
            self.message = "No camera found on this device: type the address and the code."
            return
        self.message = "Hold the pairing QR code from the web page in front of the camera."

    def stop_scan(self) -> None:
        """Stop the camera."""
        self._scan.stop()

    def _scanned(self, link: PairingLink) -> None:
        self.ids.server.text = link.server_url
        self.ids.code.text = link.code
        self.pair()

    def on_pre_enter(self) -> None:
        """Fill in the last server address and this tablet's name."""
        app = App.get_running_app()
        pairing = app.store.pairing()
        server = self.ids.server
        if not server.text:
            server.text = pairing["server_url"] if pairing else app.default_server
        if not self.ids.name.text:
            self.ids.name.text = app.tablet_name()

    def pair(self) -> None:
        """Send the pairing code to the server (on a background thread)."""
        app = App.get_running_app()
        server_url = self.ids.server.text.strip().rstrip("/")
        code = self.ids.code.text.strip()
        name = self.ids.name.text.strip() or app.tablet_name()
        if not server_url.startswith(("http://", "https://")):
            self.message = "Give the server address with http:// or https://."
            return
        if not code:
            self.message = "Type the pairing code the event manager gave you."
            return
        self.busy = True
        self.message = "Pairing…"
        store = app.store

        def work() -> None:
            try:
                pair(store, server_url, code, name, timeout=15.0)
            except Exception as error:  # every failure is shown to the user
                message = pairing_error(error, server_url)
                Clock.schedule_once(lambda _dt: self._done(message))
                return
            Clock.schedule_once(lambda _dt: self._done(None))

        threading.Thread(target=work, name="leadbridge-pair", daemon=True).start()

    def _done(self, error: str | None) -> None:
        self.busy = False
        if error:
            self.message = error
            return
        self.message = ""
        self.ids.code.text = ""
        App.get_running_app().paired()
