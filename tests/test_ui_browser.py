"""End to end in a real browser: start the demo job, watch it progress, reload, still there."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command
from engine.runtime.demo import goe_edge_ratio

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]

BAR = "[data-testid='stProgress'] [role='progressbar']"
MATRIX_ORDER = 600
TARGET_JOB_SECONDS = 12.0


def steps_for_target_duration() -> int:
    """Matrices for a demo job of about TARGET_JOB_SECONDS on this machine.

    A fixed count finished between two browser polls on a fast CI runner; timing one
    matrix here scales the job so the bar is seen moving on any machine.
    """
    rng = np.random.default_rng(0)
    goe_edge_ratio(MATRIX_ORDER, rng)  # warm up BLAS
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        goe_edge_ratio(MATRIX_ORDER, rng)
        timings.append(time.perf_counter() - start)
    return int(min(10_000, max(30, TARGET_JOB_SECONDS / float(np.median(timings)))))


def start_demo_job(page) -> None:  # noqa: ANN001 - a playwright Page on the Job runner demo
    """Fill the demo form for a job of about TARGET_JOB_SECONDS and start it."""
    page.get_by_text("Start demo job").wait_for(timeout=60_000)
    steps = page.get_by_label("Matrices", exact=True)
    steps.fill(str(steps_for_target_duration()))
    steps.press("Tab")
    page.get_by_label("Matrix order n", exact=True).fill(str(MATRIX_ORDER))
    page.get_by_label("Matrix order n", exact=True).press("Tab")
    page.get_by_role("button", name="Start demo job").click()


def test_demo_job_progress_finish_and_reload(store_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/")
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("Campaign store", exact=True).wait_for(timeout=60_000)
        assert page.title() == "Home · matloop"
        page.goto(f"http://localhost:{port}/demo_job")
        start_demo_job(page)

        seen: list[float] = []
        deadline = time.time() + 120
        while time.time() < deadline:
            if page.get_by_text("Job finished").count():
                break
            bar = page.locator(BAR)
            if bar.count():
                value = bar.first.get_attribute("aria-valuenow")
                if value is not None and (not seen or float(value) != seen[-1]):
                    seen.append(float(value))
            time.sleep(0.1)
        page.get_by_text("Job finished").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "finished.png"))
        moving = [v for v in seen if 0 < v < 100]
        assert len(moving) >= 2 and moving == sorted(moving), f"progress values seen: {seen}"
        assert "job=" in page.url

        page.reload()
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("Job finished").wait_for(timeout=60_000)
        assert page.locator(BAR).first.get_attribute("aria-valuenow") == "100"
        page.get_by_text("mean λmax / (2√n)").wait_for(timeout=30_000)  # drawn after the success box
        assert page.get_by_text("mean λmax / (2√n)").count() == 1


def test_jobs_page_refreshes_itself_until_the_job_ends(store_dir: Path) -> None:
    """The Jobs page, opened while a demo job runs and never reloaded, shows it running and then
    finished: the list polls while a job is active."""
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/demo_job")
        start_demo_job(page)
        page.locator(BAR).first.wait_for(timeout=60_000)

        page.goto(f"http://localhost:{port}/jobs")
        page.get_by_text("1 queued or running, 0 finished", exact=False).wait_for(timeout=60_000)
        page.get_by_text("0 queued or running, 1 finished", exact=False).wait_for(timeout=120_000)
