"""A real browser for page tests: Debian's chromium and chromium-driver through Selenium (headless, offline), and
the folder test screenshots go to (``WATCHLAKE_TEST_ARTIFACTS``, default ``.runtime/test-artifacts``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("needs Debian's chromium and chromium-driver: scripts/setup.sh --test installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1100",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def artifacts() -> Path:
    folder = Path(os.environ.get("WATCHLAKE_TEST_ARTIFACTS", REPO / ".runtime" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep_screenshot(shot: Path, name: str) -> None:
    """Copy ``shot`` to ``docs/<name>`` when ``WATCHLAKE_UPDATE_SCREENSHOTS=1`` (the README shows it)."""
    if os.environ.get("WATCHLAKE_UPDATE_SCREENSHOTS") == "1":
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, REPO / "docs" / name)
