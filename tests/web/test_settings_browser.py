"""The questions form in a real browser (Debian's chromium, headless): add a question with
options, move it up, save, and read it back from the page and from the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers import Booth
from tests.web.browser import missing_browser, screenshot, start_chromium, wait_for
from tests.web.test_browser import all_css, by_css, click_and_load, log_in

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Yield a headless chromium, quit afterwards."""
    driver = start_chromium(tmp_path)
    try:
        yield driver
    finally:
        driver.quit()


def _labels(driver: Any) -> list[str]:
    return [
        field.get_attribute("value")
        for field in all_css(driver, "[data-rows=questions] input[name$='-label']")
    ]


def test_a_question_with_options_is_added_moved_up_saved_and_read_back(
    browser: Any, live_server: str, booth: Booth, client: FlaskClient
) -> None:
    event_id = booth.event["id"]
    log_in(browser, live_server, booth.marketer)
    browser.get(f"{live_server}/web/events/{event_id}/settings/questions")
    existing = ["Budget?", "When?", "Topics", "Seats", "Pain"]
    assert _labels(browser)[:5] == existing

    # The script's "Add a question" gives a fresh row at the end.
    click = by_css(browser, "[data-add-row=questions]")
    assert click.is_displayed()
    click.click()
    rows = all_css(browser, "[data-rows=questions] > [data-row]")
    assert len(rows) == 7  # five questions, the spare row, the added one
    added = rows[-1]
    added.find_element("css selector", "input[name$='-label']").send_keys("Which fair brought you?")
    from selenium.webdriver.support.ui import Select

    Select(added.find_element("css selector", "select[name$='-type']")).select_by_value(
        "multiple_choice"
    )
    added.find_element("css selector", "textarea[name$='-options']").send_keys(
        "Spring Fair\nAutumn Show\nWeb search"
    )
    added.find_element("css selector", "input[name$='-required']").click()
    # Up past the spare row and "Pain", so it sits fifth.
    for _ in range(2):
        added.find_element("css selector", "[data-move=up]").click()
    labels = _labels(browser)
    assert labels[:6] == ["Budget?", "When?", "Topics", "Seats", "Which fair brought you?", "Pain"]
    # Remove "Seats" with its tick.
    seats = all_css(browser, "[data-rows=questions] > [data-row]")[3]
    seats.find_element("css selector", "input[data-remove]").click()
    assert "removed" in seats.get_attribute("class")
    screenshot(browser, "settings-questions-editing")
    click_and_load(browser, by_css(browser, "form.settings-form button[type=submit]"))

    assert "Questions saved" in by_css(browser, "main").text
    wait_for(lambda: _labels(browser), what="the saved questions")
    assert _labels(browser)[:5] == ["Budget?", "When?", "Topics", "Which fair brought you?", "Pain"]
    options = all_css(browser, "[data-rows=questions] textarea[name$='-options']")[3]
    assert options.get_attribute("value") == "Spring Fair\nAutumn Show\nWeb search"
    screenshot(browser, "settings-questions-saved")

    # What tablets and the API see.
    stored = client.get(f"/api/v1/events/{event_id}", headers=booth.marketer.headers).json
    assert [q["id"] for q in stored["questions"]] == [
        "budget",
        "timeframe",
        "topics",
        "which-fair-brought-you",
        "pain",
    ]
    assert stored["questions"][3] == {
        "id": "which-fair-brought-you",
        "label": "Which fair brought you?",
        "type": "multiple_choice",
        "required": True,
        "options": ["Spring Fair", "Autumn Show", "Web search"],
    }

    # The other sections render in the browser too, with their script-made buttons.
    for key in ("products", "rubric", "routing", "alerts"):
        browser.get(f"{live_server}/web/events/{event_id}/settings/{key}")
        assert by_css(browser, "form.settings-form button[type=submit].primary").is_displayed()
        screenshot(browser, f"settings-{key}")
    tabs = [link.text for link in all_css(browser, "nav.subtabs a")]
    assert tabs[:6] == [
        "Details and JSON",
        "Questions",
        "Products",
        "Scoring rubric",
        "Routing",
        "Alerts and thank-you",
    ]
