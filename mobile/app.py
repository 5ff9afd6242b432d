"""The Kivy app: screens, app-wide state as properties, and background sync wiring.

State that several screens show (event, staff, sync state, counts, kiosk mode) lives
here as Kivy properties; screens bind to it in kv. Store reads for the status and
draft writes run on one background thread, so the UI thread only renders and saves
leads; sync runs on SyncWorker's own thread. Results come back with Clock.schedule_once.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.screenmanager import NoTransition

from mobile import forms, status
from mobile.leadlist import display_name
from mobile.scanning import FrameSource
from mobile.settings import LocalSettings, settings_path
from mobile.syncing import SyncController, SyncStatus
from sync.store import DeviceStore

KV_DIR = Path(__file__).with_name("kv")
# Shared looks first: the screens' kv files use their classes and colours.
KV_FILES = (
    "common.kv",
    "form.kv",
    "pairing.kv",
    "staff.kv",
    "home.kv",
    "capture.kv",
    "leads.kv",
    "lead.kv",
    "settings.kv",
)
DEFAULT_SERVER = "http://127.0.0.1:5000"
TOAST_SECONDS = 2.5
REJECTED_SHOWN = 2  # refused leads listed on the home screen; the rest are in Leads


class LeadBridgeApp(App):
    """The booth tablet: pair, capture leads, list them, keep them syncing."""

    title = "leadbridge"
    event_name = StringProperty("")
    staff_name = StringProperty("")
    staff_id = NumericProperty(None, allownone=True)
    connection = StringProperty(status.UNKNOWN)
    sync_badge = StringProperty("")
    kiosk = BooleanProperty(False)
    toast_text = StringProperty("")
    summary = ObjectProperty(None, allownone=True)
    counts = DictProperty({})
    event = DictProperty({})
    # The newest leads the server refused, as {lead_id, title, reason} (home screen).
    rejected = ListProperty([])
    device_name = StringProperty("")

    def __init__(
        self,
        store_path: str | Path | None = None,
        *,
        server_url: str | None = None,
        frame_source: FrameSource | None = None,
        sync_interval: float = 60.0,
        sync_debounce: float = 2.0,
        probe_every: float = 3.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.store_path = Path(store_path) if store_path else None
        self.default_server = server_url or DEFAULT_SERVER
        self.frame_source = frame_source
        self.sync_options = {
            "interval": sync_interval,
            "debounce": sync_debounce,
            "probe_every": probe_every,
        }
        self.store: DeviceStore | None = None
        self.settings: LocalSettings | None = None
        self.sync: SyncController | None = None
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadbridge-io")
        self._toast_event = None
        self._refresh_trigger = Clock.create_trigger(lambda _dt: self.refresh_status(), 0.1)

    # -- camera ----------------------------------------------------------------------------

    def camera_in(self, preview: Any) -> FrameSource | None:
        """Return the camera's frame source, its preview shown in preview; None: no camera.

        One camera serves every screen that scans (badges, the pairing code), so its
        preview widget moves to the screen asking.
        """
        if self.frame_source is None:
            from mobile.camera import open_camera

            self.frame_source = open_camera()
        widget = getattr(self.frame_source, "widget", None)
        if widget is not None and widget.parent is not preview:
            if widget.parent is not None:
                widget.parent.remove_widget(widget)
            preview.add_widget(widget)
        return self.frame_source

    # -- life cycle ------------------------------------------------------------------------

    def build(self) -> Any:
        """Open the store, load the kv files and show the first screen."""
        if self.store_path is None:
            self.store_path = Path(self.user_data_dir) / "tablet.sqlite3"
        self.store_path.parent.mkdir(parents=True, exist_ok=True)
        self.store = DeviceStore(self.store_path)
        self.settings = LocalSettings(settings_path(self.store_path))
        self.kiosk = bool(self.settings.get("kiosk"))
        self.staff_id = self.settings.get("staff_id")
        self.staff_name = self.settings.get("staff_name") or ""
        for name in KV_FILES:
            Builder.load_file(str(KV_DIR / name))
        # The on-screen keyboard pushes the view up so the field typed in stays visible.
        Window.softinput_mode = "below_target"
        from mobile.screens import SCREENS

        root = Factory.AppRoot()
        manager = root.ids.screens
        manager.transition = NoTransition()
        self._load_event()
        first = self.first_screen()
        # The first screen is built first, so the others cost nothing before it shows.
        manager.add_widget(SCREENS[first](name=first))
        Clock.schedule_once(lambda _dt: self._add_other_screens(SCREENS), 0)
        return root

    def _add_other_screens(self, screens: dict[str, Any]) -> None:
        manager = self.root.ids.screens
        for name, cls in screens.items():
            if not manager.has_screen(name):
                manager.add_widget(cls(name=name))

    def on_start(self) -> None:
        """Start syncing if this tablet is paired and still accepted."""
        self.start_sync()
        self.refresh_status()
        Clock.schedule_interval(lambda _dt: self.refresh_status(), 30)

    def on_pause(self) -> bool:
        """Keep running in the background (Android); save the form being filled in."""
        self._each_screen("flush")
        return True

    def on_resume(self) -> None:
        """Sync when the tablet wakes up: the network may have changed meanwhile."""
        if self.sync is not None:
            self.sync.sync_now()
        self.refresh_status()

    def on_stop(self) -> None:
        """Save the draft, stop syncing and close the store."""
        self._each_screen("flush")
        self.stop_sync()
        self._io.shutdown(wait=True)
        if self.store is not None:
            self.store.close()

    def _each_screen(self, method: str) -> None:
        if self.root is None:
            return
        for screen in self.root.ids.screens.screens:
            action = getattr(screen, method, None)
            if action is not None:
                action()

    # -- navigation ------------------------------------------------------------------------

    def first_screen(self) -> str:
        """Return where the app starts: pairing, choosing staff, or the event home."""
        assert self.store is not None and self.settings is not None
        if self.store.pairing() is None:
            return "pairing"
        if not self.settings.staff_is_member(self.store.members()):
            return "staff"
        return "capture" if self.kiosk else "home"

    def screen(self, name: str) -> Any:
        """Return a screen by name, creating the screens first if needed."""
        from mobile.screens import SCREENS

        manager = self.root.ids.screens
        if not manager.has_screen(name):
            self._add_other_screens(SCREENS)
        return manager.get_screen(name)

    def go(self, name: str) -> None:
        """Show a screen; tapping the screen already shown refreshes it."""
        screen = self.screen(name)
        manager = self.root.ids.screens
        if manager.current == name:
            refresh = getattr(screen, "on_pre_enter", None)
            if refresh is not None:
                refresh()
            return
        manager.current = name

    def open_lead(self, lead_id: str) -> None:
        """Show one lead for reading and editing; Back and Save return where it was opened."""
        screen = self.screen("lead")
        opened_from = self.root.ids.screens.current
        screen.back_to = opened_from if opened_from in ("home", "leads") else "leads"
        screen.show(lead_id)
        self.go("lead")

    def leave_kiosk(self) -> None:
        """Let staff out of the visitor screen, after asking."""
        from mobile.widgets import confirm

        confirm(
            "Staff only: leave the visitor screen and open the settings?",
            lambda: self.go("settings"),
            "Open settings",
        )

    # -- background work ---------------------------------------------------------------

    def run_io(self, work: Callable[[], Any], then: Callable[[Any], Any] | None = None) -> None:
        """Run work on the store thread; hand its result to then on the UI thread."""

        def done(future: Any) -> None:
            if then is None:
                return
            try:
                result = future.result()
            except Exception as error:  # shown, not raised: the UI thread must go on
                result = error
            Clock.schedule_once(lambda _dt: then(result))

        try:
            self._io.submit(work).add_done_callback(done)
        except RuntimeError:
            pass  # shutting down: nothing left to show it on

    def toast(self, text: str, seconds: float = TOAST_SECONDS) -> None:
        """Show a short confirmation above the bottom of the screen."""
        self.toast_text = text
        if self._toast_event is not None:
            self._toast_event.cancel()
        self._toast_event = Clock.schedule_once(lambda _dt: self._clear_toast(), seconds)

    def _clear_toast(self) -> None:
        self.toast_text = ""

    # -- pairing, staff, settings --------------------------------------------------------

    def tablet_name(self) -> str:
        """Return a name for this tablet as the server lists it."""
        return f"Tablet {socket.gethostname()}"[:100]

    def paired(self) -> None:
        """Continue after a successful pairing: load the event and pick the staff member."""
        self._load_event()
        self.start_sync()
        self.refresh_status()
        self.go("staff")

    def choose_staff(self, member: dict[str, Any]) -> None:
        """Remember who is at the booth and open the event home."""
        assert self.settings is not None
        self.settings.update(staff_id=member["id"], staff_name=member["name"])
        self.staff_id = member["id"]
        self.staff_name = member["name"] or ""
        self.go("capture" if self.kiosk else "home")

    def set_kiosk(self, on: bool) -> None:
        """Switch kiosk mode, where visitors type their own details."""
        assert self.settings is not None
        self.settings.update(kiosk=on)
        self.kiosk = on

    def set_server(self, url: str) -> str | None:
        """Point sync at another server address; return an error message or None."""
        assert self.store is not None
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            return "Give the address with http:// or https://."
        pairing = self.store.pairing()
        if pairing is None:
            return "This tablet is not paired."
        # Same device id: the outbox keeps its numbering, only the address changes.
        self.store.set_pairing(url, pairing["device_id"], pairing["event_id"], pairing["token"])
        self.sync_now()
        return None

    def unpair(self) -> str | None:
        """Forget the pairing; refused (with the reason) while changes wait to upload."""
        assert self.store is not None and self.settings is not None
        waiting = self.store.outbox_size()
        if waiting:
            return (
                f"{status.plural(waiting, 'change')} still waiting to upload. "
                "Sync them first: unpairing now would strand them on this tablet."
            )
        self.stop_sync()
        self.store.clear_pairing()
        self.settings.update(staff_id=None, staff_name=None)
        self.staff_id = None
        self.staff_name = ""
        self.event = {}
        self.event_name = ""
        self.connection = status.UNKNOWN
        self.refresh_status()
        self.go("pairing")
        return None

    # -- sync ----------------------------------------------------------------------------

    def start_sync(self) -> None:
        """Start the background sync, unless unpaired or revoked."""
        if self.sync is not None or self.store is None or self.store.pairing() is None:
            return
        if self.store.is_unpaired:
            self.connection = status.REVOKED
            return
        self.sync = SyncController(
            self.store,
            lambda result: Clock.schedule_once(lambda _dt: self._sync_done(result)),
            **self.sync_options,
        )
        self.sync.start()

    def stop_sync(self) -> None:
        """Stop the background sync."""
        if self.sync is not None:
            self.sync.stop()
            self.sync = None

    def sync_now(self) -> None:
        """Sync at once (the 'Sync now' button, or a new server address)."""
        if self.sync is None:
            self.start_sync()
        elif self.sync.running:
            self.sync.sync_now()

    def lead_saved(self) -> None:
        """Queue a sync soon after a save and refresh the counters."""
        if self.sync is not None:
            self.sync.trigger()
        self._refresh_trigger()

    def _sync_done(self, result: SyncStatus) -> None:
        if result.wiped:
            # The store already deleted everything; only the pairing screen is left.
            self.unpair()
            self.connection = status.REVOKED
            self.toast(result.message, 5)
            return
        self.connection = result.connection
        if result.connection == status.REVOKED:
            self.stop_sync()
            self.toast("This tablet was unpaired by the server. Pair it again.", 5)
        if result.report is not None and result.report.pulled:
            self._load_event()
        self.refresh_status()

    def _load_event(self) -> None:
        assert self.store is not None
        event = self.store.event_config() or {}
        self.event = event
        self.event_name = str(event.get("name") or "")

    def refresh_status(self) -> None:
        """Read the counters and sync state off the UI thread, then show them."""
        store = self.store
        if store is None:
            return

        def read() -> tuple[dict[str, int], dict[str, Any], list[dict[str, Any]]]:
            return store.counts(), store.sync_info(), store.rejected_leads(REJECTED_SHOWN)

        self.run_io(read, self._show_status)

    def _show_status(self, result: Any) -> None:
        if isinstance(result, Exception):
            return  # the store closed while reading: the app is stopping
        counts, info, rejected = result
        summary = status.home_summary(
            counts, self.event, info, self.connection, datetime.now().astimezone()
        )
        self.counts = counts
        self.summary = summary
        self.device_name = info.get("device_name") or ""
        rows = [
            {
                "lead_id": lead["id"],
                "title": display_name(lead),
                "reason": forms.rejection_text(lead.get("rejected_errors") or {}, self.event),
            }
            for lead in rejected
        ]
        if rows != self.rejected:
            self.rejected = rows
        if summary.connection == status.REVOKED:
            self.connection = status.REVOKED
        waiting = max(counts["outbox"], counts["pending"])
        label = {
            status.ONLINE: "Online",
            status.OFFLINE: "Offline",
            status.UNKNOWN: "Connecting",
            status.REVOKED: "Unpaired",
        }[summary.connection]
        self.sync_badge = f"{label} · {waiting} waiting" if waiting else label
