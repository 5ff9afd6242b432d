"""UI scenarios run by the driver in a real window, one per subprocess.

Each scenario is a generator over the UI helpers (tests/mobile/ui.py); it records
what the pytest side needs to check in ctx.result.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from sync.pairing_link import pairing_link
from tests.mobile.data import (
    BADGES,
    EXPECTED_BADGES,
    FIRST_LEAD,
    OFFLINE_LEADS,
    SERVER_HAS_IT,
)
from tests.mobile.ui import UI, ScenarioFailed, Step, Wait


@dataclass
class Context:
    """What a scenario is given and what it reports."""

    app: Any
    ui: UI
    options: dict[str, Any]
    relay: Any = None
    result: dict[str, Any] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the server's API directly (not through the relay) as the event manager."""
        return requests.request(
            method,
            self.options["server"] + path,
            headers={"Authorization": self.options["auth"]},
            timeout=10,
            **kwargs,
        )

    def server_ids(self) -> set[str]:
        """Return the ids of the leads the server holds for this event."""
        response = self.api(
            "GET", "/api/v1/leads", params={"page_size": 200, "event_id": self.app.event["id"]}
        )
        response.raise_for_status()
        return {lead["id"] for lead in response.json()["items"]}


def check(condition: Any, message: str) -> None:
    """Fail the scenario with message unless condition holds."""
    if not condition:
        raise ScenarioFailed(message)


def nav(ui: UI, label: str) -> Any:
    """Return the top bar's button with this label on the current screen."""
    bar = ui.screen.children[0].children[-1]
    for child in bar.children:
        if getattr(child, "text", None) == label:
            return child
    raise ScenarioFailed(f"no {label!r} in the top bar")


def rows(ui: UI) -> list[Any]:
    """Return the lead list's rows on screen, top first."""
    shown = ui.screen.ids.list.layout_manager.children
    return sorted((row for row in shown if row.lead_id), key=lambda row: -row.y)


def type_lead(ui: UI, values: dict[str, str]) -> Iterator[Any]:
    """Type text fields of the capture form."""
    for key, text in values.items():
        yield from ui.fill_text(key, text)


def save_and_wait(ui: UI) -> Iterator[Any]:
    """Tap Save lead and wait until the form is clear for the next visitor."""
    screen = ui.screen
    yield from ui.tap(screen.ids.save_button)
    yield Wait(
        lambda: screen.ids.form.values()["first_name"] == "" and ui.app.toast_text,
        "the form to clear after saving",
        timeout=5,
    )


# -- pair, capture, list, sync; offline and back; revoked ---------------------------------


def full(ctx: Context) -> Iterator[Any]:
    """Pair against the live server, capture and sync, lose the network, get it back."""
    ui, app, relay = ctx.ui, ctx.app, ctx.relay
    yield ui.on("pairing")
    yield from ui.shot("01-pairing")
    screen = ui.screen
    yield from ui.type(screen.ids.server, relay.url)
    yield from ui.type(screen.ids.code, ctx.options["code"])
    yield from ui.tap(screen.ids.pair_button)
    yield ui.on("staff")
    yield Wait(lambda: len(ui.screen.ids.people.children) >= 2, "the team to show")
    yield from ui.shot("02-staff")
    staff = next(
        b for b in ui.screen.ids.people.children if b.text.startswith(ctx.options["staff"])
    )
    yield from ui.tap(staff)
    yield ui.on("home")
    yield Wait(lambda: app.summary is not None, "the home figures")
    yield from ui.shot("03-home")

    yield from ui.tap(ui.screen.ids.new_lead)
    yield ui.on("capture")
    yield from type_lead(ui, FIRST_LEAD)
    yield from ui.tick("consent")
    yield from ui.choose("answers.budget", "Yes")
    yield from ui.choose("answers.timeframe", "Now")
    yield from ui.choose("answers.topics", "A", "C")
    yield from ui.choose("products", "Scanner")
    yield from ui.choose("rating", "Hot")
    yield from ui.tick("follow_up")
    form = ui.screen.ids.form
    yield from ui.tap(form.fields["first_name"].ids.entry)  # back to the top for the picture
    yield from ui.shot("04-capture-filled")
    yield from save_and_wait(ui)
    yield from ui.shot("05-capture-saved")
    leads = app.store.search_leads()
    check(len(leads) == 1, f"one lead on the tablet, found {len(leads)}")
    ctx.result["first_lead"] = leads[0]["id"]

    yield from ui.tap(nav(ui, "Leads"))
    yield ui.on("leads")
    yield Wait(lambda: [row.title for row in rows(ui)] == ["Ann Example"], "Ann in the list")
    yield Wait(lambda: app.store.outbox_size() == 0, "the lead to upload")
    yield from ui.tap(nav(ui, "Leads"))  # tapping the tab again refreshes it
    yield Wait(lambda: rows(ui)[0].state_label in SERVER_HAS_IT, "the uploaded state")
    yield from ui.shot("06-leads")
    check(ctx.result["first_lead"] in ctx.server_ids(), "the server has the lead")

    yield from ui.tap(rows(ui)[0])
    yield ui.on("lead")
    check(ui.screen.state_text in SERVER_HAS_IT, f"lead state {ui.screen.state_text}")
    yield from ui.shot("07-lead")

    # The hall's network goes away: leads are kept and wait.
    relay.stop()
    for first, last in OFFLINE_LEADS:
        yield from ui.tap(nav(ui, "New lead"))
        yield ui.on("capture")
        yield from type_lead(
            ui, {"first_name": first, "last_name": last, "email": f"{first.lower()}@example.com"}
        )
        yield from ui.choose("answers.budget", "No")
        yield from save_and_wait(ui)
    check(app.store.outbox_size() == 3, "three leads wait in the outbox")
    yield from ui.tap(nav(ui, "Home"))
    yield ui.on("home")
    yield Wait(lambda: app.connection == "offline", "the app to notice it is offline")
    yield Wait(
        lambda: app.summary is not None and app.summary.waiting_text.startswith("3 "),
        "3 waiting on the home screen",
    )
    yield from ui.shot("08-home-offline")
    check(ctx.server_ids() == {ctx.result["first_lead"]}, "the server got nothing while offline")

    yield from ui.tap(nav(ui, "Settings"))
    yield ui.on("settings")
    yield from ui.tap(ui.screen.ids.unpair_button)
    check("3 changes still waiting" in ui.screen.message, f"refused: {ui.screen.message!r}")
    yield from ui.shot("09-settings-unpair-refused")

    # The network is back: the reconnect probe notices, and the three go up.
    relay.start()
    yield Wait(lambda: app.store.outbox_size() == 0, "the offline leads to upload", 20)
    ctx.result["lead_ids"] = [lead["id"] for lead in app.store.search_leads()]
    yield Wait(lambda: ctx.server_ids() == set(ctx.result["lead_ids"]), "all four on the server")
    yield from ui.tap(nav(ui, "Home"))
    yield ui.on("home")
    yield Wait(lambda: app.connection == "online", "online again")
    yield Wait(
        lambda: app.summary is not None and app.summary.waiting_text == "Everything uploaded",
        "everything uploaded on the home screen",
    )
    yield from ui.shot("10-home-synced")

    # The manager revokes the tablet: the server says wipe, the store deletes every
    # lead and its key, syncing stops and the app is back at pairing.
    device_id = app.store.pairing()["device_id"]
    response = ctx.api("POST", f"/api/v1/devices/{device_id}/revoke")
    check(response.status_code == 200, f"revoke answered {response.status_code}")
    yield from ui.tap(nav(ui, "Settings"))
    yield ui.on("settings")
    yield from ui.tap(ui.screen.ids.sync_button)
    yield Wait(lambda: app.connection == "revoked", "the app to see it was revoked")
    yield ui.on("pairing")
    yield from ui.shot("11-pairing-after-revoke")
    check(app.sync is None, "syncing stopped")
    check(app.store.pairing() is None, "the pairing is gone")
    check(app.store.counts()["total"] == 0, "no lead is left on the tablet")
    check(app.store.outbox_size() == 0 and app.store.load_draft() is None, "nothing else either")


# -- badge scanning -------------------------------------------------------------------------


def qr_frame(payload: str) -> Any:
    """Return a camera-like frame holding a QR code of payload (a grey, larger picture)."""
    import segno
    from PIL import Image

    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=6, border=4)
    buffer.seek(0)
    code = Image.open(buffer).convert("L")
    frame = Image.new("L", (1280, 720), 200)
    frame.paste(code, ((1280 - code.width) // 2, (720 - code.height) // 2))
    return frame


def blank_frame() -> Any:
    """Return a camera frame without any code in it."""
    from PIL import Image

    return Image.new("L", (1280, 720), 200)


def badges(ctx: Context) -> Iterator[Any]:
    """Scan each badge format from frames and check the form; save the plain-id one."""
    ui, app = ctx.ui, ctx.app
    source = app.frame_source
    yield ui.on("home")
    yield from ui.tap(ui.screen.ids.new_lead)
    yield ui.on("capture")
    screen = ui.screen
    for name, payload in BADGES.items():
        yield from ui.tap(screen.ids.scan_button)
        check(screen.scanning, "scanning started")
        yield 0.5  # no frame from the camera yet: scanning must go on
        source.put(blank_frame())  # the camera sees no code yet: nothing happens
        source.put(qr_frame(payload))
        yield Wait(lambda: not screen.scanning, f"the {name} badge to be read", 10)
        values = screen.ids.form.values()
        got = {key: values[key] for key in EXPECTED_BADGES[name]}
        check(got == EXPECTED_BADGES[name], f"{name}: form shows {got}")
        check(values["badge_payload"] == payload.strip(), f"{name}: raw payload kept")
        check(values["source"] == "badge", f"{name}: source badge")
        yield from ui.shot(f"badge-{name}")
        if name != "plain":
            yield from ui.tap(screen.ids.clear_button)
    # The plain id carries no name: staff add one and save.
    yield from ui.fill_text("first_name", "Badge")
    yield from ui.choose("answers.budget", "Yes")
    yield from save_and_wait(ui)
    lead = app.store.search_leads()[0]
    check(lead["source"] == "badge" and lead["badge_payload"] == BADGES["plain"], str(lead))
    ctx.result["badge_lead"] = lead["id"]


def attendee_badge(ctx: Context) -> Iterator[Any]:
    """Scan an id-only badge with no network: the attendee list on the tablet fills the form."""
    ui, app = ctx.ui, ctx.app
    yield ui.on("home")
    yield from ui.tap(ui.screen.ids.new_lead)
    yield ui.on("capture")
    screen = ui.screen
    yield from ui.tap(screen.ids.scan_button)
    check(screen.scanning, "scanning started")
    app.frame_source.put(qr_frame(ctx.options["badge"]))
    yield Wait(lambda: not screen.scanning, "the attendee's badge to be read", 10)
    values = screen.ids.form.values()
    ctx.result["form"] = {
        key: values.get(key)
        for key in ("first_name", "last_name", "email", "company", "job_title", "badge_payload")
    }
    ctx.result["scan_text"] = screen.scan_text
    yield from ui.shot("badge-attendee")
    yield from ui.choose("answers.budget", "Yes")
    yield from save_and_wait(ui)
    ctx.result["lead"] = app.store.search_leads()[0]["id"]


def card_photo(ctx: Context) -> Iterator[Any]:
    """Photograph a business card on the capture screen and save the lead with it."""
    ui, app = ctx.ui, ctx.app
    yield ui.on("home")
    yield from ui.tap(ui.screen.ids.new_lead)
    yield ui.on("capture")
    screen = ui.screen
    yield from ui.tap(screen.ids.photo_button)
    check(screen.photographing, "the camera is on for the photo")
    app.frame_source.put(ctx.options["photo"])
    yield Wait(lambda: screen.card_photo_taken, "the card photo to be taken", 10)
    yield from ui.shot("card-photographed")
    # A lead needs a name, email, phone or badge: staff type the email the visitor said.
    yield from ui.fill_text("email", "typed.at.booth@example.com")
    yield from ui.fill_text("company", "Typed At The Booth GmbH")
    yield from ui.choose("answers.budget", "Yes")
    yield from ui.tap(screen.ids.save_button)
    yield Wait(lambda: app.toast_text or screen.message, "the lead to be saved", 5)
    check(not screen.message, f"the lead was refused: {screen.message}")
    lead = app.store.search_leads()[0]
    ctx.result["lead"] = lead["id"]
    ctx.result["photos"] = app.store.card_photos(lead["id"])
    check(not screen.card_photo_taken, "the photo went with the saved lead")


def card_suggestions(ctx: Context) -> Iterator[Any]:
    """Open the lead, accept the card's phone and name, keep the typed company, save."""
    ui, app = ctx.ui, ctx.app
    yield ui.on("home")
    app.open_lead(ctx.options["lead"])
    yield ui.on("lead")
    screen = ui.screen
    yield Wait(lambda: screen.has_suggestions, "the card's suggestions to show", 5)
    offered = {button.field: button for button in screen.ids.suggestions.children}
    ctx.result["offered"] = sorted(offered)
    yield from ui.shot("card-suggestions")
    for key in ("phone", "first_name", "last_name"):
        yield from ui.tap(offered[key])
    values = screen.ids.form.values()
    ctx.result["form"] = {key: values[key] for key in ("phone", "first_name", "company", "email")}
    yield from ui.tap(screen.ids.save_button)
    yield Wait(lambda: app.toast_text, "the changes to be saved", 5)


# -- kiosk mode, validation, duplicates, drafts ------------------------------------------------


def checks(ctx: Context) -> Iterator[Any]:
    """Inline errors, required questions, duplicate warning, kiosk flow, draft kept."""
    ui, app = ctx.ui, ctx.app
    yield ui.on("home")
    yield from ui.tap(ui.screen.ids.new_lead)
    yield ui.on("capture")
    screen = ui.screen
    # Inline validation when leaving a field, with the event's country for phones.
    yield from ui.fill_text("email", "not-an-email")
    yield from ui.fill_text("phone", "12")
    check(ui.field("email").error, "email error shown")
    check(ui.field("phone").error, "phone error shown")
    # Saving without the required question: errors at the fields, nothing saved.
    yield from ui.fill_text("first_name", "Eve")
    yield from ui.fill_text("email", "eve@example.com")
    yield from ui.fill_text("phone", "030 1234567")
    check(not ui.field("email").error, "email error cleared")
    yield from ui.tap(screen.ids.save_button)
    check(ui.field("answers.budget").error, "required question flagged")
    check(app.store.counts()["total"] == 0, "nothing saved")
    yield from ui.shot("capture-errors")
    yield from ui.choose("answers.budget", "Yes")
    yield from save_and_wait(ui)

    # The same visitor again: the duplicate warning offers the first lead.
    yield from ui.fill_text("email", "EVE@example.com")
    yield Wait(lambda: screen.duplicate_text, "the duplicate warning", 5)
    yield from ui.shot("capture-duplicate")
    yield from ui.tap(screen.ids.open_duplicate)
    yield ui.on("lead")
    check(ui.screen.title == "Eve", "the duplicate opened")
    # Correct the lead: only the changed field is queued.
    yield from ui.fill_text("company", "Eve Corp")
    yield from ui.tap(ui.screen.ids.save_button)
    yield ui.on("leads")
    lead = app.store.search_leads("eve")[0]
    check(lead["company"] == "Eve Corp", "edit saved")

    # Kiosk mode, switched on in settings behind a confirmation.
    yield from ui.tap(nav(ui, "Settings"))
    yield ui.on("settings")
    yield from ui.tap(ui.screen.ids.kiosk)
    dialog = app.root_window.children[0]
    yield from ui.shot("settings-kiosk-confirm")
    yield from ui.tap(dialog.ids.confirm_button)
    yield ui.on("capture")
    check(app.kiosk, "kiosk on")
    screen = ui.screen
    check(screen.phase == "visitor", "visitor phase")
    check("answers.budget" not in [f.spec.key for f in screen.ids.form.ids.right.children], "")
    yield from ui.fill_text("first_name", "Vic")
    yield from ui.fill_text("last_name", "Visitor")
    yield from ui.fill_text("email", "vic@example.com")
    yield from ui.tick("consent")
    yield from ui.shot("capture-kiosk-visitor")
    yield from ui.tap(screen.ids.save_button)  # Done: hand back to staff
    check(screen.phase == "staff", "staff phase")
    yield from ui.choose("answers.budget", "Yes")
    yield from ui.choose("rating", "Warm")
    yield from ui.shot("capture-kiosk-staff")
    yield from save_and_wait(ui)
    check(screen.phase == "visitor", "back to the visitor phase")
    vic = app.store.search_leads("vic")[0]
    check(vic["consent"]["given"] and vic["consent"]["version"] == 1, str(vic["consent"]))
    check(vic["rating"] == "warm", "staff rating kept")

    # A half-typed lead is kept as a draft for the next start.
    yield from ui.fill_text("first_name", "Draft")
    yield from ui.fill_text("company", "Half Typed Ltd")
    yield Wait(lambda: (app.store.load_draft() or {}).get("company") == "Half Typed Ltd", "draft")


def draft_restored(ctx: Context) -> Iterator[Any]:
    """A new start of the app shows the draft the previous one kept (kiosk still on)."""
    ui = ctx.ui
    yield ui.on("capture")
    values = ui.screen.ids.form.values()
    check(values["first_name"] == "Draft" and values["company"] == "Half Typed Ltd", str(values))
    yield from ui.shot("capture-draft-restored")


# -- consent in the visitor's language ------------------------------------------


def pick_language(ui: UI, language: str) -> Step:
    """Open the consent language spinner and tap one of its languages."""
    spinner = ui.field("consent_language").ids.spinner
    yield from ui.tap(spinner)
    yield Wait(lambda: spinner.is_open, "the language list to open", 5)
    yield 0.3  # the list opens with an animation
    options = {child.text: child for child in spinner._dropdown.container.children}
    check(language in options, f"no {language!r} among {sorted(options)}")
    yield from ui.tap(options[language])
    yield Wait(lambda: spinner.text == language, f"{language} to be chosen", 5)


def consent(ctx: Context) -> Iterator[Any]:
    """Pair by scanning the QR code, capture with German consent to marketing emails only, sync."""
    ui, app, relay = ctx.ui, ctx.app, ctx.relay
    yield ui.on("pairing")
    screen = ui.screen
    yield from ui.tap(screen.ids.scan_button)
    check(screen.scanning, "scanning for the pairing code")
    # The camera shows nothing for a moment (the screenshot's wait): scanning must go on.
    yield from ui.shot("pairing-scanning")
    source = app.frame_source
    source.put(blank_frame())
    source.put(qr_frame(BADGES["mecard"]))  # a visitor's badge is not a pairing code
    source.put(qr_frame(pairing_link(relay.url, ctx.options["code"])))
    yield Wait(lambda: not screen.scanning, "the pairing code to be read", 10)
    check(screen.ids.server.text == relay.url, f"server filled in: {screen.ids.server.text}")
    yield ui.on("staff")
    yield Wait(lambda: len(ui.screen.ids.people.children) >= 2, "the team to show")
    staff = next(
        b for b in ui.screen.ids.people.children if b.text.startswith(ctx.options["staff"])
    )
    yield from ui.tap(staff)
    yield ui.on("home")
    yield from ui.tap(ui.screen.ids.new_lead)
    yield ui.on("capture")
    form = ui.screen.ids.form
    spinner = ui.field("consent_language").ids.spinner
    check(list(spinner.values) == ["de", "en"], f"languages offered: {spinner.values}")
    check(spinner.text == "de", f"default language {spinner.text!r}")
    purposes = ui.field("consent_purposes")
    check(purposes.parent is None, "purposes hidden before consent is given")
    yield from pick_language(ui, "en")
    check(ui.field("consent").label == "You may contact me.", ui.field("consent").label)
    yield from pick_language(ui, "de")
    wording = ui.field("consent").label
    check(wording == "Sie dürfen mich kontaktieren.", wording)
    yield from type_lead(ui, {"first_name": "Greta", "email": "greta@example.com"})
    yield from ui.tick("consent")
    yield Wait(lambda: purposes.parent is not None, "the purposes to show", 5)
    yield from ui.tap(purposes.ticks["marketing_email"])
    check(form.values()["consent_purposes"] == ["marketing_email"], str(form.values()))
    yield from ui.shot("capture-consent-de")
    yield from ui.choose("answers.budget", "Yes")
    yield from save_and_wait(ui)
    lead = app.store.search_leads()[0]
    ctx.result["lead_id"] = lead["id"]
    ctx.result["tablet_consent"] = lead["consent"]
    yield Wait(lambda: app.store.outbox_size() == 0, "the lead to upload")
    yield Wait(lambda: lead["id"] in ctx.server_ids(), "the server to have the lead")


# -- a lead the server refuses, corrected from the home screen ---------------------

DECISION = {"id": "decision", "label": "Decision maker?", "type": "yes_no", "required": True}


def refused(ctx: Context) -> Iterator[Any]:
    """Capture offline while the event gains a required question; fix the refused lead."""
    ui, app, relay = ctx.ui, ctx.app, ctx.relay
    yield ui.on("pairing")
    screen = ui.screen
    yield from ui.type(screen.ids.server, relay.url)
    yield from ui.type(screen.ids.code, ctx.options["code"])
    yield from ui.type(screen.ids.name, "Booth tablet 2")
    yield from ui.tap(screen.ids.pair_button)
    yield ui.on("staff")
    yield Wait(lambda: len(ui.screen.ids.people.children) >= 2, "the team to show")
    staff = next(
        b for b in ui.screen.ids.people.children if b.text.startswith(ctx.options["staff"])
    )
    yield from ui.tap(staff)
    yield ui.on("home")
    yield Wait(lambda: app.connection == "online", "the first sync")

    # Settings name the tablet and its event.
    yield from ui.tap(nav(ui, "Settings"))
    yield ui.on("settings")
    yield Wait(lambda: ui.screen.tablet_text.startswith("Paired as "), "the tablet's name")
    ctx.result["tablet_text"] = ui.screen.tablet_text
    yield from ui.shot("settings-names")

    # The hall's network goes; meanwhile the manager makes a new question required.
    relay.stop()
    event = ctx.api("GET", f"/api/v1/events/{app.event['id']}").json()
    patched = ctx.api(
        "PATCH",
        f"/api/v1/events/{app.event['id']}",
        json={"questions": [*event["questions"], DECISION]},
    )
    check(patched.status_code == 200, f"adding the question answered {patched.status_code}")

    yield from ui.tap(nav(ui, "New lead"))
    yield ui.on("capture")
    screen = ui.screen
    yield from type_lead(ui, {"first_name": "Rita", "email": "rita@example.com"})
    yield from ui.tap(screen.ids.save_button)  # the tablet's own required question
    check(screen.message == "Check the fields marked in red.", f"message {screen.message!r}")
    yield from ui.choose("answers.budget", "Yes")
    check(screen.message == "", f"the warning stays after the fix: {screen.message!r}")
    yield from save_and_wait(ui)
    [rita] = app.store.search_leads("rita")
    ctx.result["lead_id"] = rita["id"]

    yield from ui.tap(nav(ui, "Home"))
    yield ui.on("home")
    yield Wait(lambda: app.connection == "offline", "the app to notice it is offline")
    yield Wait(
        lambda: app.summary is not None and app.summary.waiting_text.startswith("1 lead waits"),
        "the waiting lead on the home screen",
    )
    home = ui.screen
    ctx.result["offline"] = [
        home.ids.connection.text,
        home.ids.waiting.text,
        home.ids.last_sync.text,
        home.ids.error.text,
    ]
    yield from ui.shot("home-offline")

    # Back online: the push is refused (the new question), the pull brings the question.
    relay.start()
    rows = home.ids.rejected_rows
    yield Wait(lambda: len(rows.children) == 1, "the refused lead on the home screen", 20)
    yield Wait(lambda: "decision" in [q["id"] for q in app.event["questions"]], "the new question")
    row = rows.children[0]
    ctx.result["refused_row"] = [row.title, row.reason, home.ids.rejected.text]
    check(ctx.server_ids() == set(), "the server holds no lead yet")
    yield from ui.shot("home-refused")

    yield from ui.tap(row)
    yield ui.on("lead")
    screen = ui.screen
    check(ui.field("answers.decision").error, "the refused question is marked")
    check("refused" in screen.message, f"lead message {screen.message!r}")
    yield from ui.shot("lead-refused")
    yield from ui.choose("answers.decision", "Yes")
    check(screen.message == "Save to send the corrected lead again.", repr(screen.message))
    yield from ui.tap(screen.ids.save_button)
    yield ui.on("home")
    yield Wait(lambda: app.store.outbox_size() == 0, "the corrected lead to upload")
    yield Wait(lambda: ctx.server_ids() == {rita["id"]}, "the server to have the lead")
    yield Wait(lambda: not rows.children, "the home screen to drop the refused lead")
    yield from ui.shot("home-corrected")


# -- a desktop start ---------------------------------------------------------------


def first_start(ctx: Context) -> Iterator[Any]:
    """Start unpaired, type in a field (which loads the clipboard) and copy from it."""
    ui = ctx.ui
    yield ui.on("pairing")
    entry = ui.screen.ids.code
    yield from ui.type(entry, "ABCD-1234")
    entry.select_all()
    entry.copy()
    yield 0.5
    yield from ui.shot("pairing-first-start")


SCENARIOS: dict[str, Callable[[Context], Iterator[Any]]] = {
    "first_start": first_start,
    "refused": refused,
    "consent": consent,
    "full": full,
    "badges": badges,
    "attendee_badge": attendee_badge,
    "card_photo": card_photo,
    "card_suggestions": card_suggestions,
    "checks": checks,
    "draft_restored": draft_restored,
}
