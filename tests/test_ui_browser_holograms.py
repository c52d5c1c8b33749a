"""End to end in a real browser: generate a hologram on the Holograms page, characterise it as a job,
check the overlay and the CSV download against the synthetic truth; a full-page screenshot
(``MATLOOP_SCREENSHOTS`` or the test's temporary folder)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command
from engine.analysis.tracking import Instrument, synthetic_frame
from engine.analysis.tracking.pipeline import compare_with_truth

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]

#: The frame generated on the page (its form's values) and the page's default microscope.
SETTINGS = {"Rows (px)": 320, "Columns (px)": 384, "Fewest particles": 2, "Most particles": 2, "Seed": 7}


def test_generate_characterise_and_download_in_the_browser(store_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    shots = Path(os.environ.get("MATLOOP_SCREENSHOTS", tmp_path))
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.set_default_timeout(60_000)
        page.goto(f"http://localhost:{port}/holograms")
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_role("heading", name="Holograms").wait_for()
        for label, value in SETTINGS.items():
            box = page.get_by_label(label, exact=True)
            box.fill(str(value))
            box.press("Tab")
            expect(box).to_have_value(str(value))
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Characterise", exact=True).click()
        page.get_by_text(re.compile(r"^Job (finished|failed)")).first.wait_for(timeout=240_000)
        assert not page.get_by_text(re.compile(r"^Job failed")).count(), page.get_by_text("Job failed").inner_text()
        assert page.get_by_text("Traceback").count() == 0
        page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=120_000)

        # the overlay: the frame's title, and the legend of what is drawn on it
        frame_chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="Normalised hologram, 320×384 px")
        expect(frame_chart).to_have_count(1, timeout=120_000)   # drawn after the box; slow beside another browser test
        for entry in ("detected centre (crop box dotted)", "fitted centre", "true centre"):
            expect(frame_chart.locator(".legendtext", has_text=entry)).to_have_count(1)
        expect(frame_chart.locator("path[style*='stroke-dasharray']")).not_to_have_count(0)   # crop boxes
        page.set_viewport_size({"width": 1280, "height": 2400})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "holograms-browser.png"), full_page=True)

        with page.expect_download() as event:
            page.get_by_role("button", name=re.compile(r"^Particle table \(CSV, \d+ rows\)")).click()
        path = tmp_path / event.value.suggested_filename
        event.value.save_as(path)
    table = pd.read_csv(io.BytesIO(path.read_bytes()))
    _, truth = synthetic_frame((320, 384), Instrument(0.447, 0.048, 1.34), particles=(2, 2), seed=7,
                               min_separation=150.0, noise=0.05)
    scores = compare_with_truth(table, truth)
    assert scores["matched"] == 2 and scores["false"] == 0 and scores["within"] == 2, scores
