"""The event home: today's and total leads, progress to target, sync state, 'New lead'."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.screenmanager import Screen


class HomeScreen(Screen):
    """Everything is bound to the app's summary in kv; entering refreshes it."""

    def on_pre_enter(self) -> None:
        """Read the latest counters."""
        App.get_running_app().refresh_status()
