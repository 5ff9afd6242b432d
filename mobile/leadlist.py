"""Page through the tablet's leads for the list screen, and say where each one stands.

The list never loads all leads: it asks the store for the page of rows the user
scrolled to (DeviceStore.search_leads with limit and offset) and keeps a few pages, so
20,000 leads scroll as smoothly as 20.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sync.store import lead_state

PAGE_SIZE = 100
# Load the next page when the user is this many rows from the end of what is loaded.
PREFETCH_ROWS = 40

STATE_LABELS = {
    "on_tablet": "On tablet",
    "uploaded": "Uploaded",
    "routed": "With sales",
    "acknowledged": "Sales took it",
    "rejected": "Needs correction",
}
# Background colours of the state badge (RGBA); each reads well with white text.
STATE_COLORS = {
    "on_tablet": (0.45, 0.45, 0.50, 1),
    "uploaded": (0.10, 0.45, 0.75, 1),
    "routed": (0.40, 0.25, 0.65, 1),
    "acknowledged": (0.10, 0.50, 0.25, 1),
    "rejected": (0.75, 0.15, 0.10, 1),
}

Search = Callable[[str, int, int], list[dict[str, Any]]]


def state_label(lead: Mapping[str, Any]) -> str:
    """Return the words the tablet shows for a lead's state."""
    return STATE_LABELS[lead_state(lead)]


def display_name(lead: Mapping[str, Any]) -> str:
    """Return the best short name for a lead: its person, email, or badge."""
    name = " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p)
    if name:
        return name
    if lead.get("email"):
        return str(lead["email"])
    if lead.get("phone"):
        return str(lead["phone"])
    if lead.get("badge_payload"):
        return "Badge " + str(lead["badge_payload"]).splitlines()[0][:40]
    return "(no name)"


def captured_label(captured_at: str | None, today: datetime) -> str:
    """Return HH:MM for a lead captured today, else the date and time."""
    if not captured_at:
        return ""
    try:
        moment = datetime.fromisoformat(captured_at)
    except ValueError:
        return ""
    if moment.tzinfo is not None and today.tzinfo is not None:
        moment = moment.astimezone(today.tzinfo)
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    return moment.strftime("%d %b %H:%M")


def row_data(lead: Mapping[str, Any], today: datetime) -> dict[str, Any]:
    """Return what one list row shows (the RecycleView data item)."""
    state = lead_state(lead)
    details = [lead.get("job_title"), lead.get("company"), lead.get("email")]
    return {
        "lead_id": lead["id"],
        "title": display_name(lead),
        "subtitle": " · ".join(str(d) for d in details if d) or " ",
        "state_label": STATE_LABELS[state],
        "state_color": STATE_COLORS[state],
        "when": captured_label(lead.get("captured_at"), today),
        "rating": (lead.get("rating") or "").capitalize(),
    }


class LeadPager:
    """Random access to the leads matching a search, fetched a page at a time and cached.

    Without search text the number of leads is known (DeviceStore.counts()), so the
    list can be as long as all of them from the start while holding only the pages on
    screen. A search has no count: its list grows a page at a time as the user nears
    its end.
    """

    def __init__(self, search: Search, page_size: int = PAGE_SIZE, cached_pages: int = 20):
        self._search = search
        self.page_size = page_size
        self.cached_pages = cached_pages
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self.text = ""
        self.total: int | None = None
        self.loaded = 0
        self.exhausted = False

    def reset(self, text: str = "", total: int | None = None) -> None:
        """Start again from the newest lead matching text; total when it is known."""
        self.text = text.strip()
        self.total = total
        self._pages.clear()
        self.loaded = 0
        self.exhausted = False
        if total is None:
            self._page(0)

    @property
    def length(self) -> int:
        """Return how many rows the list has now."""
        return self.total if self.total is not None else self.loaded

    def _page(self, number: int) -> list[dict[str, Any]]:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        page = self._search(self.text, self.page_size, number * self.page_size)
        self._pages[number] = page
        if len(self._pages) > self.cached_pages:
            self._pages.popitem(last=False)
        end = number * self.page_size + len(page)
        self.loaded = max(self.loaded, end)
        if len(page) < self.page_size:
            self.exhausted = True
        return page

    def get(self, index: int) -> dict[str, Any] | None:
        """Return the lead at index (0 is the newest), or None past the end."""
        if index < 0:
            return None
        number, within = divmod(index, self.page_size)
        page = self._page(number)
        return page[within] if within < len(page) else None

    def wants_more(self, last_visible: int) -> bool:
        """Tell whether showing row last_visible calls for the next page of a search."""
        return (
            self.total is None
            and not self.exhausted
            and last_visible >= self.loaded - PREFETCH_ROWS
        )

    def load_more(self) -> int:
        """Fetch the page after the rows known so far; return the new length."""
        if not self.exhausted:
            self._page(self.loaded // self.page_size)
        return self.length
