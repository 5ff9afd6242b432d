"""The web pages in a real browser (Debian's chromium, headless) against the server on loopback.

One scenario walks the issue's flow: log in as each role, create an event with questions and
a rubric, pair a tablet, push leads through the sync API and watch the dashboard update
without a reload, acknowledge from the rep inbox, download both exports and read them back,
and check that a rep cannot open another rep's lead by URL. Every page is saved as a
screenshot in artifacts/screenshots/web/ for review.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from server.users.models import Role
from sync.pairing_link import pairing_link, parse_pairing_link
from tests.helpers import PASSWORD, ApiHelper, Person, create_mutation
from tests.web.browser import missing_browser, screenshot, start_chromium, wait_for

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """Return an empty folder for the browser's downloads."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(downloads: Path) -> Iterator[Any]:
    """Yield a headless chromium, quit afterwards."""
    driver = start_chromium(downloads)
    try:
        yield driver
    finally:
        driver.quit()


def by_css(driver: Any, selector: str) -> Any:
    """Return the element at selector; say what the page shows when it is not there."""
    from selenium.common.exceptions import NoSuchElementException
    from selenium.webdriver.common.by import By

    try:
        return driver.find_element(By.CSS_SELECTOR, selector)
    except NoSuchElementException:
        shown = driver.find_element(By.TAG_NAME, "body").text[:2000]
        raise AssertionError(f"no {selector} on {driver.current_url}:\n{shown}") from None


def all_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def log_in(driver: Any, base: str, person: Person) -> None:
    """Log in through the form (after ending any earlier session)."""
    driver.delete_all_cookies()
    driver.get(base + "/web/login")
    by_css(driver, "input[name=email]").send_keys(person.email)
    by_css(driver, "input[name=password]").send_keys(PASSWORD)
    click_and_load(driver, by_css(driver, "form button[type=submit]"))
    assert "/web/login" not in driver.current_url


def click_and_load(driver: Any, element: Any) -> None:
    """Click element and wait until the next page has loaded."""
    # A mark on the current page's window: it is gone once another page has loaded.
    driver.execute_script("window.__leaving = true;")
    element.click()
    wait_for(
        lambda: driver.execute_script(
            "return window.__leaving !== true && document.readyState === 'complete';"
        ),
        what="the next page",
    )


def fill(driver: Any, name: str, value: str) -> None:
    """Replace a form field's text (textareas included) with value."""
    field = by_css(driver, f"[name={name}]")
    # Set long JSON directly: typing it key by key is slow and auto-indents nothing, but
    # still fire the events a person's typing would.
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        field,
        value,
    )


def push(base: str, token: str, mutations: list[dict[str, Any]]) -> dict[str, Any]:
    """Push mutations to the server the way a tablet does."""
    response = requests.post(
        base + "/api/v1/sync/push",
        json={"mutations": mutations},
        headers={"Authorization": f"Bearer {token}", "Leadbridge-Protocol": "1"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def wait_download(folder: Path, suffix: str) -> Path:
    """Wait for the browser to finish a download ending in suffix."""

    def done() -> Path | None:
        found = [path for path in folder.glob(f"*{suffix}")]
        return found[0] if found and not list(folder.glob("*.crdownload")) else None

    return wait_for(done, 45, f"the {suffix} download")


RUBRIC = {
    "hot": 10,
    "warm": 5,
    "rules": [
        {"question": "budget", "equals": True, "points": 10, "reason": "Has budget"},
        {"product": "scanner", "points": 3, "reason": "Wants the scanner"},
    ],
}
QUESTIONS = [
    {"id": "budget", "label": "Budget approved?", "type": "yes_no", "required": True},
    {"id": "timeframe", "label": "When?", "type": "single_choice", "options": ["Now", "Later"]},
    {"id": "seats", "label": "Seats", "type": "number"},
]
FILLERS = 8
PRODUCTS = [{"id": "scanner", "name": "Badge scanner"}, {"id": "crm", "name": "CRM sync"}]


def test_staff_see_a_page_saying_they_have_no_web_access(
    browser: Any, live_server: str, api: ApiHelper
) -> None:
    staff = api.person(Role.STAFF)
    log_in(browser, live_server, staff)
    assert "Booth staff work on the tablets" in by_css(browser, "main").text
    screenshot(browser, "staff-no-access")


def test_the_pairing_qr_code_scans_from_a_screenshot(
    browser: Any, live_server: str, api: ApiHelper, app: Flask
) -> None:
    import zxingcpp
    from PIL import Image

    marketer = api.person(Role.MARKETER, name="Mia Marketer")
    event = api.event(marketer)
    log_in(browser, live_server, marketer)
    browser.get(f"{live_server}/web/events/{event['id']}/tablets")
    click_and_load(browser, by_css(browser, "form.inline-form button"))
    code = by_css(browser, "#pairing-code").text
    # What a phone's camera sees: the page as drawn, not the SVG's source.
    with Image.open(screenshot(browser, "tablets-pairing-qr")) as page:
        found = zxingcpp.read_barcodes(page.convert("RGB"))
    qr_codes = [found for found in found if found.format == zxingcpp.BarcodeFormat.QRCode]
    assert [found.text for found in qr_codes] == [
        pairing_link(app.config["LEADBRIDGE_PUBLIC_URL"], code)
    ]
    assert parse_pairing_link(qr_codes[0].text).code == code


def test_the_whole_flow_in_a_browser(
    browser: Any, live_server: str, api: ApiHelper, downloads: Path
) -> None:
    admin = api.person(Role.ADMIN, name="Ada Admin")
    marketer = api.person(Role.MARKETER, name="Mia Marketer")
    staff = api.person(Role.STAFF, name="Sam Booth")
    rep = api.person(Role.REP, name="Rita Rep")
    other_rep = api.person(Role.REP, name="Otto Rep")
    base = live_server

    # The login page, then a marketer's empty event list.
    browser.get(base + "/")
    assert browser.current_url.endswith("/web/login")
    screenshot(browser, "login")
    by_css(browser, "input[name=email]").send_keys(marketer.email)
    by_css(browser, "input[name=password]").send_keys("not the password")
    click_and_load(browser, by_css(browser, "form button[type=submit]"))
    assert "Wrong email or password." in by_css(browser, "[role=alert]").text
    screenshot(browser, "login-wrong-password")
    log_in(browser, base, marketer)
    assert browser.current_url.endswith("/web/events")
    assert "No events yet" in by_css(browser, "main").text
    screenshot(browser, "events-empty")

    # Create an event with questions, products, a rubric and routing to the rep.
    click_and_load(browser, by_css(browser, "a.button.primary"))
    fill(browser, "name", "Browser Expo 2026")
    fill(browser, "venue", "Messe Hall 4")
    fill(browser, "starts_on", "2026-11-20")
    fill(browser, "ends_on", "2026-11-30")
    fill(browser, "timezone", "Europe/Berlin")
    fill(browser, "country", "DE")
    fill(browser, "target_leads", "50")
    fill(browser, "target_hot_leads", "5")
    fill(browser, "cost", "12000")
    fill(browser, "consent_text", "Acme may contact me about its products.")
    fill(browser, "questions", json.dumps(QUESTIONS, indent=2))
    fill(browser, "products", json.dumps(PRODUCTS, indent=2))
    fill(browser, "rubric", "{ not json")
    fill(browser, "routing", json.dumps({"rules": [], "fallback_owner_id": rep.id}))
    click_and_load(browser, by_css(browser, "form.form button[type=submit]"))
    # Bad JSON is shown next to its field, and what was typed stays.
    assert "Not valid JSON" in by_css(browser, "main").text
    assert by_css(browser, "[name=name]").get_attribute("value") == "Browser Expo 2026"
    screenshot(browser, "event-form-error")
    fill(browser, "rubric", json.dumps(RUBRIC, indent=2))
    click_and_load(browser, by_css(browser, "form.form button[type=submit]"))
    wait_for(lambda: "/edit" in browser.current_url, what="the saved event")
    assert "Event saved." in by_css(browser, "main").text
    event_id = int(browser.current_url.split("/events/")[1].split("/")[0])
    screenshot(browser, "event-settings")

    # The team: staff to capture, rep to follow up.
    browser.get(f"{base}/web/events/{event_id}/team")
    from selenium.webdriver.support.ui import Select

    for person in (staff, rep):
        Select(by_css(browser, "select[name=user_id]")).select_by_value(str(person.id))
        click_and_load(browser, by_css(browser, "button[value=add]"))
    assert "Sam Booth" in by_css(browser, "table.list").text
    screenshot(browser, "event-team")

    # The dashboard before any lead: an intentional empty state.
    browser.get(f"{base}/web/events/{event_id}")
    assert "No leads yet" in by_css(browser, "#dash-empty").text
    screenshot(browser, "dashboard-empty")

    # Pair a tablet with the code the page shows.
    browser.get(f"{base}/web/events/{event_id}/tablets")
    screenshot(browser, "tablets-empty")
    click_and_load(browser, by_css(browser, "form.inline-form button"))
    code = by_css(browser, "#pairing-code").text
    assert by_css(browser, ".qr svg")
    screenshot(browser, "tablets-pairing-code")
    paired = requests.post(
        base + "/api/v1/devices/pair", json={"code": code, "name": "Booth tablet 1"}, timeout=30
    )
    assert paired.status_code == 201, paired.text
    token = paired.json()["token"]
    browser.refresh()
    assert "Booth tablet 1" in by_css(browser, "main").text

    # Open the dashboard, mark the page, push leads: the figures change without a reload.
    browser.get(f"{base}/web/events/{event_id}")
    browser.execute_script("window.__notReloaded = true;")
    assert by_css(browser, "[data-figure=leads]").text == "0"
    mutations = [
        create_mutation(
            1,
            staff.id,
            first_name="Hanna",
            last_name="Hot",
            rating="hot",
            answers={"budget": True, "timeframe": "Now", "seats": 40},
        ),
        create_mutation(
            2,
            staff.id,
            first_name="Walter",
            last_name="Warm",
            email="walter@example.org",
            rating="warm",
            answers={"budget": False, "timeframe": "Later"},
            products=["crm"],
        ),
        create_mutation(
            3,
            staff.id,
            first_name="Cora",
            last_name="Cold",
            email="cora@example.net",
            rating="cold",
            answers={"budget": False},
            products=[],
        ),
    ]
    # More visitors over the past hours, so the hourly chart has a shape.
    now = datetime.now(UTC)
    mutations += [
        create_mutation(
            4 + number,
            staff.id,
            first_name=f"Visitor{number}",
            email=f"visitor{number}@example.com",
            rating="warm" if number % 3 == 0 else "cold",
            captured_at=(now - timedelta(hours=number % 5, minutes=number)).isoformat(),
        )
        for number in range(FILLERS)
    ]
    result = push(base, token, mutations)
    assert [item["outcome"] for item in result["results"]] == ["applied"] * (3 + FILLERS)
    # Read through JavaScript: the script swaps the elements while we look.
    leads_shown = "return document.querySelector('[data-figure=leads]').textContent"
    wait_for(lambda: browser.execute_script(leads_shown) == str(3 + FILLERS), 45, "the live update")
    assert browser.execute_script("return window.__notReloaded === true;")
    assert "Live" in by_css(browser, "#dash-live").text
    text = by_css(browser, "#dash-body").text
    assert "Sam Booth" in text  # leaderboard
    assert "Budget approved?" in text  # answers per question
    assert "Booth tablet 1" in text  # tablet freshness
    screenshot(browser, "dashboard-live")

    # Downloads: both exports, read back.
    browser.get(f"{base}/web/events/{event_id}/export.csv")
    csv_file = wait_download(downloads, ".csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 3 + FILLERS
    assert {"Cora", "Hanna", "Walter"} <= {row["First name"] for row in rows}
    hanna = next(row for row in rows if row["First name"] == "Hanna")
    # The lead with its marketing context: event, questions, rating, owner, status.
    assert hanna["Event"] == "Browser Expo 2026"
    assert hanna["Q: When?"] == "Now"
    assert hanna["Booth rating"] == "hot"
    assert hanna["Owner"] == "Rita Rep"
    assert hanna["Status"] == "assigned"
    browser.get(f"{base}/web/events/{event_id}/export.xlsx")
    xlsx_file = wait_download(downloads, ".xlsx")
    from openpyxl import load_workbook

    workbook = load_workbook(xlsx_file, read_only=True)
    try:
        values = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()  # read-only workbooks keep their file open until closed
    header = values[0]
    names = {row[header.index("First name")] for row in values[1:]}
    assert len(values) == 1 + 3 + FILLERS
    assert {"Cora", "Hanna", "Walter"} <= names
    walter = next(row for row in values[1:] if row[header.index("First name")] == "Walter")
    assert walter[header.index("Q: When?")] == "Later"
    assert walter[header.index("Booth rating")] == "warm"

    # The lead list with a filter, and a lead page.
    browser.get(f"{base}/web/leads?rating=hot")
    assert "Hanna" in by_css(browser, "table.list").text
    assert "Walter" not in by_css(browser, "table.list").text
    screenshot(browser, "leads-filtered")

    # Compare: this event next to another.
    api.event(marketer, name="Last Year Expo")
    browser.get(f"{base}/web/compare")
    assert "BROWSER EXPO 2026" in by_css(browser, "table.compare").text.upper()
    screenshot(browser, "compare")

    # The rep: inbox, acknowledge in one click, then the lead page with its timeline.
    log_in(browser, base, rep)
    assert browser.current_url.endswith("/web/inbox")
    items = all_css(browser, ".inbox-item")
    assert len(items) == 3 + FILLERS
    assert "Hanna" in items[0].text  # hottest first
    screenshot(browser, "inbox")
    click_and_load(browser, by_css(browser, ".inbox-item button.ack"))
    assert "Acknowledged" in by_css(browser, ".flash").text
    # Acknowledged leads move below the ones still waiting.
    items = all_css(browser, ".inbox-item")
    assert "Hanna" in items[-1].text
    first = items[-1]
    assert "acknowledged" in first.text
    assert "waiting" in items[0].get_attribute("class")
    screenshot(browser, "inbox-after-ack")
    click_and_load(browser, first.find_element("css selector", "a"))
    main = by_css(browser, "main").text
    assert "Has budget" in main  # the rubric's reason
    assert "acknowledged" in by_css(browser, ".timeline").text
    lead_url = browser.current_url
    screenshot(browser, "lead")
    Select(by_css(browser, "#outcome select[name=status]")).select_by_value("contacted")
    click_and_load(browser, by_css(browser, "#outcome button"))
    assert "Status changed to contacted" in by_css(browser, ".flash").text
    # Disqualify another lead with one of the event's reasons (offered as suggestions).
    browser.get(f"{base}/web/leads?q=cora")
    click_and_load(browser, by_css(browser, "table.list a"))
    Select(by_css(browser, "#outcome select[name=status]")).select_by_value("disqualified")
    by_css(browser, "#outcome input[name=reason]").send_keys("No budget")
    click_and_load(browser, by_css(browser, "#outcome button"))
    assert "Status changed to disqualified" in by_css(browser, ".flash").text
    assert "No budget" in by_css(browser, ".timeline").text

    # Another rep cannot open that lead by its URL.
    log_in(browser, base, other_rep)
    browser.get(lead_url)
    assert "Not found" in by_css(browser, "h1").text
    assert "Hanna" not in by_css(browser, "main").text
    screenshot(browser, "lead-other-rep-404")
    browser.get(f"{base}/web/inbox")
    assert "Inbox zero" in by_css(browser, "main").text
    screenshot(browser, "inbox-empty")

    # The admin: users, and a link to the API docs.
    log_in(browser, base, admin)
    browser.get(f"{base}/web/users")
    assert "Rita Rep" in by_css(browser, "table.list").text
    assert by_css(browser, "a[href='/api/docs']")
    screenshot(browser, "users")
    browser.get(lead_url)
    screenshot(browser, "lead-as-admin")
    browser.get(f"{base}/web/events/{event_id}")
    dashboard = by_css(browser, "#dash-body").text
    assert "Disqualified because" in dashboard and "No budget" in dashboard
    screenshot(browser, "dashboard-with-outcomes")
