"""End to end in a real browser: classify a generated crystal slab in its liquid, see it in 3D, reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option).first.click()
    page.wait_for_timeout(500)


def test_slab_in_liquid_classified_drawn_and_found_again(store_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    shots = Path(os.environ.get("MATLOOP_SCREENSHOTS", tmp_path))
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/ordering")
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("Crystal order", exact=True).first.wait_for(timeout=60_000)
        assert page.title() == "Crystal order · matloop"
        choose(page, "Configuration", "Crystal slab in its liquid")
        choose(page, "Method", "gmm")
        choose(page, "Descriptors", "coherence-6")
        choose(page, "Classes K", "2")
        page.get_by_role("button", name="Classify").click()
        page.get_by_text("Job finished").wait_for(timeout=180_000)
        page.get_by_text("Per-particle results (CSV)").first.wait_for(timeout=60_000)
        assert "job=" in page.url
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        assert page.locator(".js-plotly-plot").count() == 5  # 3D, fractions, q4, q6, embedding
        assert page.get_by_text("Adjusted Rand index").count() == 1
        assert page.get_by_text("Traceback").count() == 0
        page.set_viewport_size({"width": 1280, "height": 3400})  # Streamlit scrolls inside the page
        page.wait_for_timeout(2500)  # let the WebGL views draw
        page.screenshot(path=str(shots / "ordering-slab-gmm.png"))

        page.reload()
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("Job finished").wait_for(timeout=60_000)
        page.get_by_text("Per-particle results (CSV)").wait_for(timeout=60_000)
