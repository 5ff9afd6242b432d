"""Read and correct one lead; rejected leads show the server's reasons at their fields.

What the server read off the lead's card photo is offered field by field, only for fields the
lead has empty: accepting puts the value in the form, and Save changes sends it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.screenmanager import Screen

from mobile import forms
from mobile.leadlist import STATE_COLORS, STATE_LABELS, captured_label, display_name
from sync.store import LeadInvalid, lead_state

CARD_FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Job title",
    "website": "Website",
}


def conflict_lines(conflicts: list[dict[str, Any]]) -> str:
    """Return the conflicts of a lead as lines: the server's value was kept."""
    return "\n".join(
        f'{c["field"]}: the server kept "{c["server_value"]}" (this tablet had '
        f'"{c["device_value"]}")'
        for c in conflicts
    )


class LeadScreen(Screen):
    """One lead in the same form as capture; saving sends only the changed fields."""

    lead_id = StringProperty("")
    title = StringProperty("")
    state_text = StringProperty("")
    state_color = ColorProperty((0.5, 0.5, 0.5, 1))
    details = StringProperty("")
    message = StringProperty("")
    conflicts_text = StringProperty("")
    back_to = StringProperty("leads")  # the screen the lead was opened from
    has_suggestions = BooleanProperty(False)  # what the server read off the card photo

    def on_kv_post(self, base_widget: Any) -> None:
        """Clear the warning once the fields it pointed at are fixed."""
        self._hint = ""
        self.ids.form.bind(on_form_change=self._form_changed)

    def _form_changed(self, form: Any) -> None:
        if self.message and not form.has_errors():
            self.message = self._hint

    def _show_suggestions(self, suggestions: dict[str, str]) -> None:
        """Offer what was read off the card, one button per field the lead has empty."""
        box = self.ids.suggestions
        box.clear_widgets()
        for field, value in suggestions.items():
            label = CARD_FIELD_LABELS.get(field, field)
            button = Factory.QuietTap(text=f"{label}: {value}", size_hint=(None, 1))
            button.width = dp(320)
            button.field = field
            button.bind(on_release=lambda tap, f=field, v=value: self.accept(f, v, tap))
            box.add_widget(button)
        self.has_suggestions = bool(suggestions)

    def accept(self, field: str, value: str, button: Any = None) -> None:
        """Put one suggested value into the form; Save changes sends it like a typed one."""
        form = self.ids.form
        if field == "website":
            notes = (form.values().get("notes") or "").rstrip()
            form.fill({"notes": f"{notes}\nWebsite: {value}".strip()})
        elif not form.values().get(field):  # something typed meanwhile stays
            form.fill({field: value})
        if button is not None:
            self.ids.suggestions.remove_widget(button)
        self.has_suggestions = bool(self.ids.suggestions.children)

    def show(self, lead_id: str) -> None:
        """Load a lead into the form."""
        app = App.get_running_app()
        lead = app.store.get_lead(lead_id)
        if lead is None:
            self.message = "This lead is no longer on the tablet."
            return
        self.lead_id = lead_id
        self._lead = lead
        form = self.ids.form
        event = dict(app.event)
        if form.event != event:
            form.build(event)  # only when the questions may differ: building costs a frame
        form.set_values(forms.values_from_lead(lead, form.specs))
        state = lead_state(lead)
        self.state_text = STATE_LABELS[state]
        self.state_color = STATE_COLORS[state]
        self.title = display_name(lead)
        owner = f" · with {lead['owner_name']}" if lead.get("owner_name") else ""
        when = captured_label(lead.get("captured_at"), datetime.now().astimezone())
        self.details = f"Captured {when}{owner}"
        self.conflicts_text = conflict_lines(app.store.conflicts(lead_id))
        self._show_suggestions(app.store.card_suggestions(lead_id))
        self.message = self._hint = ""
        if state == "rejected":
            errors = forms.errors_by_key(lead.get("rejected_errors") or {})
            form.show_errors(errors)
            self._hint = "Save to send the corrected lead again."
            if forms.FORM_ERROR in errors:
                # Nothing to correct here (the team, say): fixed on the server, sent again.
                self.message = f"{errors[forms.FORM_ERROR]} Once fixed, save to send it again."
            else:
                self.message = "The server refused this lead: correct the fields in red."

    def save(self) -> bool:
        """Save the changes; return whether they were stored."""
        app = App.get_running_app()
        form = self.ids.form
        fields = forms.to_lead_fields(
            form.values(),
            form.specs,
            app.event,
            now=datetime.now().astimezone(),
            previous_consent=self._lead.get("consent"),
        )
        changes = forms.changed_fields(self._lead, fields)
        refused = lead_state(self._lead) == "rejected"
        if not changes and not refused:
            app.toast("Nothing changed.")
            app.go(self.back_to)
            return False
        try:
            if changes:
                app.store.update_lead(self.lead_id, changes)
            else:
                app.store.resend_lead(self.lead_id)  # its cause was fixed on the server
        except LeadInvalid as error:
            errors = forms.errors_by_key(error.errors)
            form.show_errors(errors)
            self.message = errors.get(forms.FORM_ERROR) or "Check the fields marked in red."
            return False
        except KeyError:
            self.message = "This lead is no longer on the tablet."
            return False
        app.toast("Saved: sending it again." if refused else "Changes saved.")
        app.lead_saved()
        app.go(self.back_to)
        return True
