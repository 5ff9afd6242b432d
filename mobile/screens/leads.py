"""The tablet's leads, newest first, searchable; pages load as the user scrolls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import ColorProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.screenmanager import Screen

from mobile.leadlist import LeadPager, row_data
from mobile.status import plural

ROW_HEIGHT = 88  # dp; every row has the same height, so positions are arithmetic
SEARCH_DELAY = 0.3
PLACEHOLDER = {
    "lead_id": "",
    "title": "",
    "subtitle": "",
    "state_label": "",
    "state_color": (0, 0, 0, 0),
    "when": "",
    "rating": "",
}


class LeadRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """One lead in the list; its content comes from the pager when it scrolls into view."""

    lead_id = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    state_label = StringProperty("")
    state_color = ColorProperty((0.5, 0.5, 0.5, 1))
    when = StringProperty("")
    rating = StringProperty("")

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        """Show the lead at index (the data items themselves are empty)."""
        lead = rv.pager.get(index)
        row = row_data(lead, rv.today) if lead is not None else PLACEHOLDER
        super().refresh_view_attrs(rv, index, row)

    def on_release(self) -> None:
        """Open the lead."""
        if self.lead_id:
            App.get_running_app().open_lead(self.lead_id)


class LeadsScreen(Screen):
    """A RecycleView over LeadPager: only the pages scrolled to are ever loaded."""

    summary = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        """Create the pager and the debounced search."""
        app = App.get_running_app()
        self.pager = LeadPager(
            lambda text, limit, offset: app.store.search_leads(text, limit, offset)
        )
        listing = self.ids.list
        listing.pager = self.pager
        listing.today = datetime.now().astimezone()
        self._search_trigger = Clock.create_trigger(lambda _dt: self.reload(), SEARCH_DELAY)
        self.ids.search.bind(text=lambda *_args: self._search_trigger())
        listing.bind(scroll_y=lambda *_args: self.load_more_if_needed())
        # Counters change after saves and syncs: show new states without a tap.
        app.bind(counts=lambda *_args: self.refresh_rows())

    def on_pre_enter(self) -> None:
        """Show the newest leads (an edit or a sync may have changed them)."""
        self.reload()

    def reload(self) -> None:
        """Start the list again from the newest lead matching the search."""
        app = App.get_running_app()
        text = self.ids.search.text.strip()
        total = app.store.counts()["total"] if not text else None
        self.pager.reset(text, total)
        listing = self.ids.list
        listing.today = datetime.now().astimezone()
        # Empty items: rows read their lead from the pager by index when shown.
        rows = [{} for _ in range(self.pager.length)]
        if listing.data == rows:
            listing.refresh_from_data()  # same length: the property would not notice
        else:
            listing.data = rows
        listing.scroll_y = 1
        self._summarise()

    def refresh_rows(self) -> None:
        """Re-read the rows on show while the list is open (a sync changed states)."""
        if self.manager is None or self.manager.current != self.name or self.pager.text:
            return  # hidden, or a search: its results stay until searched again
        total = App.get_running_app().counts.get("total", 0)
        if total != self.pager.length:
            self.reload()  # new leads come first: every row moved
            return
        self.pager.reset("", total)
        self.ids.list.refresh_from_data()

    def _summarise(self) -> None:
        if self.pager.text:
            found = f"{self.pager.loaded}{'' if self.pager.exhausted else '+'}"
            self.summary = f"{found} matching '{self.pager.text}'"
        else:
            self.summary = f"{plural(self.pager.length, 'lead')} on this tablet"

    def last_visible_index(self) -> int:
        """Return the index of the lowest row on screen."""
        listing = self.ids.list
        content = len(listing.data) * dp(ROW_HEIGHT)
        hidden_above = (1 - listing.scroll_y) * max(0.0, content - listing.height)
        return int((hidden_above + listing.height) // dp(ROW_HEIGHT))

    def load_more_if_needed(self) -> None:
        """Grow a search's list when the user nears the end of what is loaded."""
        if self.pager.wants_more(self.last_visible_index()):
            listing = self.ids.list
            length = self.pager.load_more()
            listing.data.extend({} for _ in range(length - len(listing.data)))
            self._summarise()
