"""The import pages in chromium: upload, map with the preview, and watch the progress poll."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.attendees.lists import csv_bytes, people
from tests.helpers import ApiHelper, Booth
from tests.web.browser import missing_browser, screenshot, wait_for
from tests.web.test_browser import browser, by_css, click_and_load, downloads, log_in

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))
__all__ = ["browser", "downloads"]  # the fixtures this module uses


def test_a_manager_imports_a_list_and_sees_its_progress(
    browser: Any, api: ApiHelper, booth: Booth, live_server: str, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    api.add_member(booth.admin, booth.event["id"], booth.marketer.id)
    source = tmp_path / "registrations.csv"
    source.write_bytes(csv_bytes(people(2500)))
    log_in(browser, live_server, booth.marketer)
    browser.get(f"{live_server}/web/events/{booth.event['id']}/attendees")
    by_css(browser, "input[type=file][name=file]").send_keys(str(source))
    click_and_load(browser, by_css(browser, "form[enctype] button[type=submit]"))
    preview = by_css(browser, "#preview").text
    assert "Ann1001" in preview and "Ann1005" in preview and "Ann1006" not in preview
    assert Select(by_css(browser, "select[name=badge_id]")).first_selected_option.text == (
        "Registration ID"
    )
    Select(by_css(browser, "select[name=phone]")).select_by_visible_text("Tel")
    screenshot(browser, "attendees-mapping")
    click_and_load(browser, by_css(browser, "#mapping button[type=submit]"))
    status = lambda: by_css(browser, "[data-key=status]").text  # noqa: E731
    wait_for(lambda: status() == "done", 60, "the page to show the import done")
    assert by_css(browser, "[data-key=inserted]").text == "2500"
    assert by_css(browser, "[data-key=rows_read]").text == "2500"
    assert by_css(browser, "progress").get_attribute("value") == "100"
    screenshot(browser, "attendees-done")
    browser.get(f"{live_server}/web/events/{booth.event['id']}/attendees")
    assert "2500" in by_css(browser, "#list-size").text
