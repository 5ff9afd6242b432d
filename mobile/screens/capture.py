"""Capture a lead: scan a badge or type, qualify, save in one tap, ready for the next one.

In kiosk mode the visitor first sees only the contact fields and consent ('visitor'
phase); tapping Done hands the tablet back to staff, who qualify and save.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile import forms
from mobile.card_photo import StillCapture
from mobile.leadlist import captured_label, display_name
from mobile.scan_session import ScanSession
from mobile.scanning import BadgeRead, read_badge
from mobile.widgets import FormField
from sync.store import LeadInvalid

DRAFT_DELAY = 0.8  # seconds of quiet before the draft is written
DUPLICATE_DELAY = 0.5
SCAN_MESSAGES = {
    "vcard": "Badge read: check the details and qualify.",
    "mecard": "Badge read: check the details and qualify.",
    "bizcard": "Badge read: check the details and qualify.",
    "id": "Badge number read. Add the visitor's name or email if you can.",
    "unknown": "Code read but not understood; it is kept with the lead. Type the details.",
}
# Badges that carry no contact details: looked up in the event's attendee list.
ATTENDEE_FORMATS = ("id", "unknown")
ATTENDEE_FOUND = "Badge found in the attendee list: check the details and qualify."


class CaptureScreen(Screen):
    """The capture form with scanning, duplicate warning, draft autosave and save."""

    phase = StringProperty("staff")  # 'visitor' while a kiosk visitor fills in
    message = StringProperty("")  # why the lead could not be saved
    notice = StringProperty("")  # news that is no error (a restored draft)
    duplicate_text = StringProperty("")
    duplicate_ids = ListProperty([])
    scanning = BooleanProperty(False)
    scan_text = StringProperty("")
    saving = BooleanProperty(False)
    photographing = BooleanProperty(False)
    card_photo_taken = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        """Prepare the debounced draft and duplicate checks."""
        self._draft_trigger = Clock.create_trigger(lambda _dt: self._save_draft(), DRAFT_DELAY)
        self._duplicate_trigger = Clock.create_trigger(
            lambda _dt: self.check_duplicates(), DUPLICATE_DELAY
        )
        self._built_for: tuple[Any, ...] | None = None
        self._scan = ScanSession(
            read_badge, self._badge, lambda active: setattr(self, "scanning", active)
        )
        self._restored = False
        self._still = StillCapture(self._photographed)
        self._card_photo: bytes | None = None
        form = self.ids.form
        form.bind(on_form_change=self._form_changed, on_field_leave=self._field_left)
        app = App.get_running_app()
        app.bind(event=lambda *_args: self.ensure_form(), kiosk=lambda *_args: self._kiosk())

    # -- building and restoring -------------------------------------------------------

    def on_pre_enter(self) -> None:
        """Build the form for the current event and restore the draft the first time."""
        self.ensure_form()
        self._kiosk()

    def on_leave(self) -> None:
        """Stop the camera and keep the draft."""
        self.stop_scan()
        self._still.stop()
        self.photographing = False
        self.flush()

    def ensure_form(self) -> None:
        """(Re)build the fields when the event's questions or products changed."""
        app = App.get_running_app()
        event = dict(app.event)
        key = (
            event.get("id"),
            event.get("server_version"),
            repr(event.get("questions")),
            repr(event.get("consent_texts")),
        )
        if key == self._built_for:
            return
        form = self.ids.form
        kept = form.values() if form.specs else None
        form.build(event)
        self._built_for = key
        if kept is not None:
            form.set_values(forms.restore_values(form.specs, kept))
        elif not self._restored:
            self._restored = True
            draft = app.store.load_draft()
            if draft:
                form.set_values(forms.restore_values(form.specs, draft))
                self.notice = "Restored the lead you were filling in."

    def _kiosk(self) -> None:
        app = App.get_running_app()
        self.phase = "visitor" if app.kiosk else "staff"

    def on_phase(self, _screen: Any, phase: str) -> None:
        """Show only the visitor's fields in the kiosk's visitor phase."""
        self.ids.form.groups = (
            [forms.CONTACT] if phase == "visitor" else [forms.CONTACT, forms.QUALIFICATION]
        )

    def hand_back(self) -> None:
        """The visitor is done: show staff the qualification part."""
        self.phase = "staff"
        self.check_duplicates()

    # -- changes, checks and drafts ---------------------------------------------------

    def _form_changed(self, form: Any) -> None:
        self._draft_trigger()
        self._duplicate_trigger()
        if self.message and not form.has_errors():
            self.message = ""  # every field marked in red is fixed: the warning has done its job

    def _field_left(self, _form: Any, field: FormField) -> None:
        app = App.get_running_app()
        field.error = forms.check_field(field.spec, field.get_value(), app.event) or ""

    def _save_draft(self) -> None:
        app = App.get_running_app()
        form = self.ids.form
        values = form.values()
        store = app.store
        if forms.is_blank(values, form.specs):
            app.run_io(store.clear_draft)
        else:
            app.run_io(lambda: store.save_draft(values))

    def flush(self) -> None:
        """Write a pending draft now (the app is pausing or stopping)."""
        if self._draft_trigger.is_triggered:
            self._draft_trigger.cancel()
            self._save_draft()

    def check_duplicates(self) -> None:
        """Warn staff when a lead with this email or phone is already on the tablet.

        Never in the kiosk's visitor phase: it would show a visitor someone else's name.
        """
        app = App.get_running_app()
        email, phone = forms.duplicate_keys(self.ids.form.values())
        wanted = (email or phone) and self.phase == "staff"
        ids = app.store.find_duplicates(email, phone) if wanted else []
        self.duplicate_ids = ids
        if not ids:
            self.duplicate_text = ""
            return
        lead = app.store.get_lead(ids[0]) or {}
        when = captured_label(lead.get("captured_at"), datetime.now().astimezone())
        more = f" and {len(ids) - 1} more" if len(ids) > 1 else ""
        self.duplicate_text = f"Already captured: {display_name(lead)} ({when}){more}"

    def open_duplicate(self) -> None:
        """Open the lead this one seems to duplicate."""
        if self.duplicate_ids:
            self.flush()
            App.get_running_app().open_lead(self.duplicate_ids[0])

    # -- save -------------------------------------------------------------------------

    def save(self) -> str | None:
        """Save the lead, clear the form and confirm; return the new lead's id."""
        app = App.get_running_app()
        form = self.ids.form
        fields = forms.to_lead_fields(
            form.values(), form.specs, app.event, now=datetime.now().astimezone()
        )
        fields["captured_by_id"] = app.staff_id
        try:
            lead_id = app.store.save_lead(fields)
        except LeadInvalid as error:
            errors = forms.errors_by_key(error.errors)
            first = form.show_errors(errors)
            if first is not None and first.spec.group == forms.QUALIFICATION:
                self.phase = "staff"
            self.message = errors.get(forms.FORM_ERROR) or "Check the fields marked in red."
            return None
        if self._card_photo is not None:
            # Sealed in the store with the lead; the sync sends it after the lead's push.
            app.store.add_card_photo(lead_id, self._card_photo)
            self._forget_photo()
        self._draft_trigger.cancel()
        app.run_io(app.store.clear_draft)
        form.clear()
        self.message = self.notice = self.scan_text = self.duplicate_text = ""
        self.duplicate_ids = []
        app.toast(f"Saved: {display_name(fields)}")
        app.lead_saved()
        if app.kiosk:
            self.phase = "visitor"
        return lead_id

    def clear(self) -> None:
        """Throw away what is typed (and the draft)."""
        app = App.get_running_app()
        self._draft_trigger.cancel()
        app.run_io(app.store.clear_draft)
        self.ids.form.clear()
        self.message = self.notice = self.scan_text = self.duplicate_text = ""
        self.duplicate_ids = []
        self._forget_photo()

    # -- business card photo ------------------------------------------------------------

    def photograph_card(self) -> None:
        """Take a still of the visitor's business card, kept with the lead when it is saved."""
        if self.photographing:
            return
        self.stop_scan()
        if not self._still.start(self.ids.preview):
            self.scan_text = "No camera found on this device: type the details."
            return
        self.photographing = True
        self.scan_text = "Hold the card flat in front of the camera."

    def _photographed(self, photo: bytes | Exception | None) -> None:
        self.photographing = False
        if not isinstance(photo, bytes):
            self.scan_text = "The camera gave no picture: try again."
            return
        self._card_photo = photo
        self.card_photo_taken = True
        self.scan_text = (
            "Card photographed: it goes with the lead, and the server reads it for you."
        )

    def _forget_photo(self) -> None:
        self._card_photo = None
        self.card_photo_taken = False

    # -- badge scanning ---------------------------------------------------------------

    def toggle_scan(self) -> None:
        """Start or stop looking for a badge code."""
        if self.scanning:
            self.stop_scan()
            return
        if not self._scan.start(self.ids.preview):
            self.scan_text = "No camera found on this device: type the details."
            return
        self.scan_text = "Hold the badge's code in front of the camera."

    def stop_scan(self) -> None:
        """Stop the camera."""
        self._scan.stop()

    def _badge(self, read: BadgeRead) -> None:
        form = self.ids.form
        fields = dict(read.fields)
        message = SCAN_MESSAGES[read.format]
        if read.format in ATTENDEE_FORMATS:
            # An id-only or URL badge: the event's attendee list on this tablet says who.
            found = App.get_running_app().store.find_attendee(fields.get("badge_payload"))
            if found:
                fields.update(found)
                message = ATTENDEE_FOUND
        form.fill(fields)
        for key in fields:
            if key in form.fields:
                self._field_left(form, form.fields[key])  # a badge can carry a bad email
        self.scan_text = message
