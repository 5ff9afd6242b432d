"""Pair the tablet with an event: server address and the manager's pairing code."""

from __future__ import annotations

import threading

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from sync.client import PairingRefused, RetryableError, SyncError, pair


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
    message = StringProperty("")

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
