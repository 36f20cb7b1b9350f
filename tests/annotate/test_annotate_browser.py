"""The annotation page in a real browser (Debian's chromium and chromium-driver through Selenium): log in, label one
window with a click and another with a number key, undo the last one; the warehouse and the sink hold exactly
those labels. A screenshot of the page is written to the test artifacts (``WATCHLAKE_TEST_ARTIFACTS``, default
``.runtime/test-artifacts``); with ``WATCHLAKE_UPDATE_SCREENSHOTS=1`` it is also copied to ``docs/annotate.png``."""

from __future__ import annotations

import pytest
from annotate_fixtures import (
    PASSWORD,
    T0,
    RecordingSink,
    add_user,
    fill_queue,
    probabilities,
    query,
    queue_row,
)
from test_annotate_oracle import _produce, _wave

from conftest import make_settings
from fixtures_browser import artifacts, keep_screenshot
from fixtures_services import kafka_overrides, warehouse_overrides
from watchlake.annotate.app import create_app
from watchlake.annotate.server import serving

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_label_by_click_and_key_then_undo_in_a_browser(
    tmp_path, kafka_service, kafka_topic, postgres_service, pg_schema, browser
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    settings = make_settings(
        tmp_path,
        **kafka_overrides(kafka_service, kafka_topic),
        **warehouse_overrides(postgres_service, pg_schema),
    )
    _produce(settings, {"watch-1": "Walk", "watch-2": "Eat", "watch-3": "Relax"}, _wave)
    fill_queue(
        settings,
        [
            queue_row("watch-1", T0, probabilities(0.32)),  # most uncertain: first
            queue_row("watch-2", T0, probabilities(0.45)),
            queue_row("watch-3", T0, probabilities(0.60)),
        ],
    )
    add_user(settings, "alice")
    sink = RecordingSink()
    wait = WebDriverWait(browser, 30)

    def shown() -> str:
        return browser.find_element(By.ID, "window").get_attribute("data-device")

    def plotted(device: str) -> None:
        wait.until(
            lambda d: d.find_elements(By.CSS_SELECTOR, f'#window[data-device="{device}"][data-plotted="1"]')
        )

    with serving(create_app(settings, sink=sink)) as url:
        browser.get(f"{url}/")
        browser.find_element(By.ID, "name").send_keys("alice")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "login").click()
        plotted("watch-1")
        assert browser.find_element(By.ID, "left").text == "3"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#plot-axes canvas")) == 1
        assert "600 readings read back from Kafka" in browser.find_element(By.ID, "plot-source").text
        page_url = browser.current_url

        # A click: Eat for watch-1.
        browser.find_element(
            By.XPATH, "//button[contains(@class, 'class')][normalize-space(.)='2 Eat']"
        ).click()
        plotted("watch-2")
        # A number key: 3 is Relax (classes in order: Cook, Eat, Relax, Walk), with a note.
        browser.find_element(By.ID, "note").send_keys("arm still, sitting?")
        browser.find_element(By.TAG_NAME, "body").click()
        browser.find_element(By.TAG_NAME, "body").send_keys("3")
        plotted("watch-3")
        assert browser.find_element(By.ID, "today").text == "2"
        shot = artifacts() / "annotate.png"
        browser.save_screenshot(str(shot))
        # u: undo the last label (Relax on watch-2); its window comes back.
        browser.find_element(By.TAG_NAME, "body").send_keys("u")
        plotted("watch-2")
        assert browser.find_element(By.ID, "flash").text == "undid Relax"
        assert browser.current_url == page_url  # no page reload: htmx swapped the window in
    assert shown() == "watch-2"

    stored = query(
        settings,
        "SELECT device_id, label, annotator, note, retracts IS NOT NULL "
        "FROM {schema}.annotation_labels ORDER BY labelled_at",
    )
    assert stored == [
        ("watch-1", "Eat", "alice", "", False),
        ("watch-2", "Relax", "alice", "arm still, sitting?", False),
        ("watch-2", None, "alice", "", True),
    ]
    assert [(label.device_id, label.label) for label in sink.labels] == [
        ("watch-1", "Eat"),
        ("watch-2", "Relax"),
        ("watch-2", None),
    ]
    assert shot.stat().st_size > 10_000
    keep_screenshot(shot, "annotate.png")
