"""End to end in a real browser: train a softness model on an uploaded 2D trajectory, then compute the
softness of another trajectory with it; screenshots of both (``MATLOOP_SCREENSHOTS`` or the test's
temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command
from engine.analysis.softness.synthetic import vacancy_hopping
from engine.analysis.softness.trajectory import write_trajectory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]


def test_train_on_a_trajectory_and_compute_softness_in_the_browser(store_dir: Path, tmp_path: Path) -> None:
    train = write_trajectory(vacancy_hopping(cells=(16, 9), frames=300, hops=120, seed=1)[0], tmp_path / "vac-train.npz")
    other = write_trajectory(vacancy_hopping(cells=(16, 9), frames=300, hops=120, seed=11)[0], tmp_path / "vac-test.npz")
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    shots = Path(os.environ.get("MATLOOP_SCREENSHOTS", tmp_path))
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/softness")
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("Glass softness", exact=True).first.wait_for(timeout=60_000)

        page.get_by_text("Train a model", exact=True).click()
        page.get_by_text("Upload files").click()
        page.locator("[data-testid='stFileUploader']").filter(has_text="Training files").locator(
            "input[type='file']").set_input_files(str(train))
        page.get_by_text("vac-train.npz").wait_for(timeout=30_000)
        page.get_by_label("Name", exact=True).fill("vacancies 2D")
        page.get_by_label("Name", exact=True).press("Enter")
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Train model").click()
        page.get_by_text("Held-out balanced accuracy").wait_for(timeout=180_000)
        assert page.get_by_text("Traceback").count() == 0
        page.set_viewport_size({"width": 1280, "height": 1800})
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "softness-1-trained.png"), full_page=True)

        page.get_by_role("combobox", name="Model", exact=True).click()
        page.get_by_role("option", name="vacancies 2D: softness (SVM)").first.click()
        page.wait_for_timeout(500)
        page.get_by_text("Upload a file").first.click()
        page.locator("[data-testid='stFileUploader']").filter(has_text="Configuration or trajectory file").locator(
            "input[type='file']").set_input_files(str(other))
        page.get_by_text("vac-test.npz").wait_for(timeout=30_000)
        page.get_by_role("button", name="Compute softness").click()
        page.get_by_text("Per-particle results (CSV)").first.wait_for(timeout=180_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        assert page.locator(".js-plotly-plot").count() == 3  # particles, P(S), P(R|S)
        assert page.get_by_text("Frames analysed").count() == 1 and page.get_by_text("Traceback").count() == 0
        page.set_viewport_size({"width": 1280, "height": 2600})
        page.wait_for_timeout(2500)
        page.screenshot(path=str(shots / "softness-2-trajectory.png"), full_page=True)
