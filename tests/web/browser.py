"""Drive Debian's chromium (headless) through its chromedriver, and save screenshots."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "web"
WIDTH = 1400

T = TypeVar("T")


def missing_browser() -> str | None:
    """Say why the browser tests cannot run here, or None when they can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists() and shutil.which(path.name) is None:
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


def start_chromium(downloads: Path) -> Any:
    """Start a headless chromium that saves downloads into downloads."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WIDTH},1000",
        "--lang=en-GB",
        # Everything the tests load is on loopback; keep chromium off the network.
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    return driver


def screenshot(driver: Any, name: str) -> Path:
    """Save the whole page (not just the window) as artifacts/screenshots/web/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
    )
    driver.set_window_size(WIDTH, min(max(int(height) + 140, 700), 4000))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(WIDTH, 1000)
    return path


def wait_for(check: Callable[[], T | None], seconds: float = 30, what: str = "condition") -> T:
    """Poll check until it returns something truthy, for at most seconds."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.2)
