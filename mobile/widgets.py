"""Widgets shared by several screens: buttons sized for fingers, the top bar, the lead form.

Their looks are in kv/common.kv and kv/form.kv; the form's logic (which fields, what
values mean) is in mobile/forms.py, which has no Kivy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior, ToggleButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.stacklayout import StackLayout

from mobile import forms


class Tap(ButtonBehavior, Label):
    """A flat, finger-sized button."""

    bg_color = ColorProperty((0.05, 0.36, 0.72, 1))
    hidden = BooleanProperty(False)  # invisible and untouchable, keeping its place


class Choice(ToggleButtonBehavior, Label):
    """One option of a choice: a large toggle that fills when chosen."""

    value = ObjectProperty(None, allownone=True)


class TickRow(ToggleButtonBehavior, BoxLayout):
    """A check box with its text; the whole row is the touch target."""

    text = StringProperty("")


class NavBar(BoxLayout):
    """The top bar: event, staff, sync state and the way to the other screens."""

    title = StringProperty("")
    menu = BooleanProperty(True)  # False before pairing and staff are chosen


class ConfirmDialog(ModalView):
    """Ask before doing something hard to undo."""

    message = StringProperty("")
    confirm_text = StringProperty("Yes")
    cancel_text = StringProperty("Cancel")
    on_confirm: Callable[[], Any] | None = None

    def confirm(self) -> None:
        """Close and run the confirmed action."""
        self.dismiss()
        if self.on_confirm is not None:
            self.on_confirm()


def confirm(message: str, action: Callable[[], Any], confirm_text: str = "Yes") -> ConfirmDialog:
    """Open a confirmation dialog that runs action on yes; return it."""
    dialog = ConfirmDialog(message=message, confirm_text=confirm_text)
    dialog.on_confirm = action
    dialog.open()
    return dialog


# -- the lead form ---------------------------------------------------------------------


class FormField(BoxLayout):
    """One field of the lead form: label, input and the error under it."""

    label = StringProperty("")
    error = StringProperty("")
    required = BooleanProperty(False)

    def __init__(self, spec: forms.FieldSpec, on_change: Callable[[FormField], Any], **kwargs):
        self.spec = spec
        self._on_change = on_change
        self._quiet = False
        super().__init__(**kwargs)
        self.label = spec.label
        self.required = spec.required

    def changed(self, *_args: Any) -> None:
        """Tell the form the user changed this field."""
        if not self._quiet:
            self.error = ""
            self._on_change(self)

    def set_value(self, value: Any) -> None:
        """Show value without it counting as the user's change."""
        self._quiet = True
        try:
            self._show(value)
        finally:
            self._quiet = False

    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def get_value(self) -> Any:
        """Return the value as mobile.forms expects it."""
        raise NotImplementedError


class TextField(FormField):
    """A text input; email and phone are checked when the user leaves the field."""

    input_filter = ObjectProperty(None, allownone=True)
    multiline = BooleanProperty(False)
    input_type = StringProperty("text")
    on_leave: Callable[[FormField], Any] | None = None

    def __init__(self, spec: forms.FieldSpec, on_change: Callable[[FormField], Any], **kwargs):
        super().__init__(spec, on_change, **kwargs)
        self.multiline = spec.kind == forms.MULTILINE
        self.input_type = {forms.EMAIL: "mail", forms.PHONE: "tel", forms.NUMBER: "number"}.get(
            spec.kind, "text"
        )
        self.ids.entry.bind(text=self.changed, focus=self._focus_changed)

    def _focus_changed(self, _entry: Any, focused: bool) -> None:
        if not focused and self.on_leave is not None:
            self.on_leave(self)

    def _show(self, value: Any) -> None:
        self.ids.entry.text = "" if value is None else str(value)

    def get_value(self) -> str:
        """Return the typed text."""
        return self.ids.entry.text


class ChoiceField(FormField):
    """Options as large toggles: one (single choice, yes/no, rating) or several."""

    multiple = BooleanProperty(False)

    def __init__(self, spec: forms.FieldSpec, on_change: Callable[[FormField], Any], **kwargs):
        super().__init__(spec, on_change, **kwargs)
        self.multiple = spec.kind == forms.MULTI
        options: Sequence[tuple[Any, str]] = spec.options
        if spec.kind == forms.YES_NO:
            options = ((True, "Yes"), (False, "No"))
        group = None if self.multiple else f"choice-{id(self)}"
        box: StackLayout = self.ids.options
        for value, text in options:
            toggle = Factory.Choice(text=text, value=value, group=group)
            toggle.allow_no_selection = True
            toggle.bind(state=self.changed)
            box.add_widget(toggle)

    def _toggles(self) -> list[Choice]:
        return list(reversed(self.ids.options.children))

    def _show(self, value: Any) -> None:
        chosen = set(value or []) if self.multiple else {value}
        for toggle in self._toggles():
            # `in` on a set would take True for 1: compare identities of bools too.
            picked = any(toggle.value == v and type(toggle.value) is type(v) for v in chosen)
            toggle.state = "down" if picked else "normal"

    def get_value(self) -> Any:
        """Return the chosen value (None if none), or the list of chosen values."""
        picked = [t.value for t in self._toggles() if t.state == "down"]
        if self.multiple:
            return picked
        return picked[0] if picked else None


class TickField(FormField):
    """A yes/no tick box: follow-up, or the visitor's consent with its text."""

    def __init__(self, spec: forms.FieldSpec, on_change: Callable[[FormField], Any], **kwargs):
        super().__init__(spec, on_change, **kwargs)
        self.ids.tick.bind(state=self.changed)

    def _show(self, value: Any) -> None:
        self.ids.tick.state = "down" if value else "normal"

    def get_value(self) -> bool:
        """Return whether the box is ticked."""
        return self.ids.tick.state == "down"


class LanguageField(FormField):
    """The consent's language: a spinner of the languages the event has wording in."""

    def __init__(self, spec: forms.FieldSpec, on_change: Callable[[FormField], Any], **kwargs):
        super().__init__(spec, on_change, **kwargs)
        spinner = self.ids.spinner
        spinner.values = [value for value, _ in spec.options]
        spinner.text = forms.empty_value(spec) or ""
        spinner.bind(text=self.changed)

    def _show(self, value: Any) -> None:
        self.ids.spinner.text = value or forms.empty_value(self.spec) or ""

    def get_value(self) -> str | None:
        """Return the chosen language tag."""
        return self.ids.spinner.text or None


class PurposesField(FormField):
    """What the visitor agrees to: one check box per purpose."""

    def __init__(self, spec: forms.FieldSpec, on_change: Callable[[FormField], Any], **kwargs):
        super().__init__(spec, on_change, **kwargs)
        self.ticks: dict[str, TickRow] = {}
        for value, text in spec.options:
            tick = Factory.TickRow(text=text)
            tick.bind(state=self.changed)
            self.ticks[value] = tick
            self.ids.options.add_widget(tick)

    def _show(self, value: Any) -> None:
        chosen = set(value or [])
        for purpose, tick in self.ticks.items():
            tick.state = "down" if purpose in chosen else "normal"

    def get_value(self) -> list[str]:
        """Return the ticked purposes, in display order."""
        return [purpose for purpose, tick in self.ticks.items() if tick.state == "down"]


def make_field(spec: forms.FieldSpec, on_change: Callable[[FormField], Any]) -> FormField:
    """Return the widget for one field spec."""
    if spec.kind in forms.TEXT_KINDS:
        return TextField(spec, on_change)
    if spec.kind == forms.LANGUAGE:
        return LanguageField(spec, on_change)
    if spec.kind == forms.PURPOSES:
        return PurposesField(spec, on_change)
    if spec.kind in (forms.CHOICE, forms.MULTI, forms.YES_NO):
        return ChoiceField(spec, on_change)
    return TickField(spec, on_change)


class LeadForm(BoxLayout):
    """The lead's fields in two scrolling columns: contact left, qualification right.

    Dispatches on_form_change when the user changes anything, and on_field_leave when
    a text field loses focus (for inline checks).
    """

    event = ObjectProperty(None, allownone=True)
    groups = ListProperty([forms.CONTACT, forms.QUALIFICATION])
    __events__ = ("on_form_change", "on_field_leave")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.specs: list[forms.FieldSpec] = []
        self.fields: dict[str, FormField] = {}
        self._hidden: dict[str, Any] = {"source": "manual", "badge_payload": None}

    def build(self, event: Mapping[str, Any] | None) -> None:
        """Create the fields for an event's questions and products."""
        self.event = event
        self.specs = forms.form_specs(event)
        self.fields = {}
        for spec in self.specs:
            field = make_field(spec, self._field_changed)
            if isinstance(field, TextField):
                field.on_leave = lambda f: self.dispatch("on_field_leave", f)
            self.fields[spec.key] = field
        self._place()

    def on_groups(self, *_args: Any) -> None:
        """Show only the fields of the chosen groups (kiosk mode hides qualification)."""
        if self.fields:
            self._place()

    def _place(self) -> None:
        left, right = self.ids.left, self.ids.right
        left.clear_widgets()
        right.clear_widgets()
        for spec in self.specs:
            if spec.group in self.groups and self._shown(spec):
                column = left if spec.group == forms.CONTACT else right
                column.add_widget(self.fields[spec.key])
        self.ids.right_column.opacity = 1 if forms.QUALIFICATION in self.groups else 0

    def _shown(self, spec: forms.FieldSpec) -> bool:
        # Purposes only mean something once the visitor consents.
        return spec.kind != forms.PURPOSES or bool(self.fields["consent"].get_value())

    def _consent_changed(self) -> None:
        """Show the wording of the chosen language, and the purposes when consent is given."""
        language = self.fields.get(forms.CONSENT_LANGUAGE)
        if language is not None:
            text, _version = forms.consent_wording(self.event, language.get_value())
            self.fields["consent"].label = text
        purposes = self.fields.get(forms.CONSENT_PURPOSES_KEY)
        if purposes is not None and (purposes.parent is None) == self._shown(purposes.spec):
            self._place()

    def _field_changed(self, field: FormField) -> None:
        if field.spec.kind in (forms.CONSENT, forms.LANGUAGE):
            self._consent_changed()
        self.dispatch("on_form_change")

    def on_form_change(self) -> None:
        """Default handler: nothing."""

    def on_field_leave(self, field: FormField) -> None:
        """Default handler: nothing."""

    def values(self) -> dict[str, Any]:
        """Return the form's values (mobile.forms' shape)."""
        values = {key: field.get_value() for key, field in self.fields.items()}
        values.update(self._hidden)
        return values

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show values; errors are cleared."""
        for key, field in self.fields.items():
            if key in values:
                field.set_value(values[key])
            field.error = ""
        for key in forms.HIDDEN_KEYS:
            if key in values:
                self._hidden[key] = values[key]
        self._consent_changed()

    def fill(self, found: Mapping[str, Any]) -> None:
        """Write the fields found (a scanned badge) over the form, leaving others as they are."""
        for key, value in found.items():
            if key in self.fields:
                self.fields[key].set_value(value)
                self.fields[key].error = ""
            elif key in forms.HIDDEN_KEYS:
                self._hidden[key] = value
        self.dispatch("on_form_change")

    def clear(self) -> None:
        """Empty the form for the next visitor and scroll back to its top."""
        self.set_values(forms.empty_values(self.specs))
        self.ids.scroll.scroll_y = 1

    def show_errors(self, errors: Mapping[str, str]) -> FormField | None:
        """Show errors under their fields; return the first field with one."""
        first = None
        for spec in self.specs:
            field = self.fields[spec.key]
            field.error = errors.get(spec.key, "")
            if field.error and first is None and spec.group in self.groups:
                first = field
        if first is not None:
            Clock.schedule_once(lambda _dt: self.ids.scroll.scroll_to(first, padding=dp(40)))
        return first

    def has_errors(self) -> bool:
        """Tell whether any field shows an error."""
        return any(field.error for field in self.fields.values())

    def scroll_to(self, field: FormField) -> None:
        """Scroll the form so field is visible."""
        self.ids.scroll.scroll_to(field, padding=dp(40), animate=False)
