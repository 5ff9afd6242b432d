"""Settings: sync now, server address, who is at the booth, kiosk mode, unpairing."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from mobile.status import tablet_text
from mobile.widgets import confirm


class SettingsScreen(Screen):
    """Actions that change how the tablet works; risky ones ask first."""

    message = StringProperty("")
    tablet_text = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        """Follow the names: the tablet's arrives with a sync, the event's with a pull."""
        app = App.get_running_app()
        app.bind(device_name=self._show_names, event=self._show_names)

    def _show_names(self, *_args: Any) -> None:
        app = App.get_running_app()
        self.tablet_text = tablet_text(app.store.pairing(), app.event, app.device_name)

    def on_pre_enter(self) -> None:
        """Show the current address and pairing."""
        app = App.get_running_app()
        pairing = app.store.pairing()
        self.ids.server.text = pairing["server_url"] if pairing else ""
        self._show_names()
        self.message = ""
        self.ids.kiosk.state = "down" if app.kiosk else "normal"

    def sync_now(self) -> None:
        """Sync right away."""
        App.get_running_app().sync_now()
        self.message = "Syncing…"

    def save_server(self) -> None:
        """Use the typed server address from now on."""
        error = App.get_running_app().set_server(self.ids.server.text)
        self.message = error or "Server address saved; syncing."

    def kiosk_tapped(self) -> None:
        """Ask before switching kiosk mode; put the box back if the answer is no."""
        app = App.get_running_app()
        wanted = self.ids.kiosk.state == "down"
        self.ids.kiosk.state = "down" if app.kiosk else "normal"
        question = (
            "Turn kiosk mode on? Visitors will type their own details; the menu is hidden "
            "until staff tap 'Staff'."
            if wanted
            else "Turn kiosk mode off?"
        )

        def switch() -> None:
            app.set_kiosk(wanted)
            self.ids.kiosk.state = "down" if wanted else "normal"
            if wanted:
                app.go("capture")

        confirm(question, switch, "Turn on" if wanted else "Turn off")

    def unpair(self) -> None:
        """Unpair after asking; refused while changes wait to upload."""
        app = App.get_running_app()
        waiting = app.store.outbox_size()
        if waiting:
            self.message = app.unpair() or ""
            return
        confirm(
            "Unpair this tablet? It stops syncing until it is paired again.",
            self._unpair,
            "Unpair",
        )

    def _unpair(self) -> None:
        self.message = App.get_running_app().unpair() or ""
