"""Let the person at the booth pick their name from the event's team."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen


class StaffScreen(Screen):
    """One big button per team member; the choice is remembered on the tablet."""

    message = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        """Refill the list whenever a sync brings the event's team."""
        App.get_running_app().bind(event=lambda *_args: self.fill())

    def on_pre_enter(self) -> None:
        """Show the team as the store knows it."""
        self.fill()

    def fill(self) -> None:
        """Create a button per team member."""
        app = App.get_running_app()
        grid = self.ids.people
        grid.clear_widgets()
        members = sorted(app.store.members(), key=lambda m: (m.get("name") or "").casefold())
        for member in members:
            name, role = member.get("name") or "Unnamed", member.get("role") or ""
            button = Factory.PersonButton(text=f"{name}\n[size=18sp]{role}[/size]")
            button.bind(on_release=lambda _button, m=member: app.choose_staff(m))
            grid.add_widget(button)
        self.message = (
            ""
            if members
            else "Nobody is on this event's team yet. Ask the event manager to add people, "
            "then tap Refresh."
        )

    def refresh(self) -> None:
        """Ask the server for the event again; the list refills when it arrives."""
        App.get_running_app().sync_now()
        self.message = "Asking the server for the team…"
