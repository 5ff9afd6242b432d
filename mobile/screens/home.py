"""The event home: today's and total leads, progress to target, sync state, 'New lead'.

Leads the server refused are listed under the sync state with the reason, each a tap
away from the form that corrects and sends it again.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen


class RejectedRow(ButtonBehavior, BoxLayout):
    """A lead the server refused; the whole row opens it for correcting and sending again."""

    lead_id = StringProperty("")
    title = StringProperty("")
    reason = StringProperty("")

    def on_release(self) -> None:
        """Open the lead in the form, its refused fields marked."""
        App.get_running_app().open_lead(self.lead_id)


class HomeScreen(Screen):
    """Everything is bound to the app's summary in kv; entering refreshes it."""

    def on_kv_post(self, base_widget: Any) -> None:
        """Follow the app's list of refused leads."""
        app = App.get_running_app()
        app.bind(rejected=lambda *_args: self.show_rejected())
        self.show_rejected()

    def on_pre_enter(self) -> None:
        """Read the latest counters."""
        App.get_running_app().refresh_status()

    def show_rejected(self) -> None:
        """Show one row per refused lead: who, why, and a tap to correct it."""
        box = self.ids.rejected_rows
        box.clear_widgets()
        for row in App.get_running_app().rejected:
            box.add_widget(RejectedRow(**row))
