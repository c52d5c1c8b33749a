"""End to end in a real browser: start a campaign, watch it grow, reload, stop, resume, finish, export."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command
from engine.campaigns.campaign import Campaign
from engine.store import Store

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]

#: Strength labels of 4×4 plates take about a second each, so the page is seen mid-run.
BUDGET = 24
SOLVER_CALLS = re.compile(r"(\d+) / (\d+)")


def metric(page, label: str) -> str | None:  # noqa: ANN001 - a Playwright page
    """The value of the st.metric called ``label``, or None while it is not drawn."""
    box = page.locator("[data-testid='stMetric']").filter(has_text=label)
    if not box.count():
        return None
    try:
        return box.first.locator("[data-testid='stMetricValue']").inner_text(timeout=2_000).strip()
    except Exception:  # noqa: BLE001 - redrawn between the two look-ups
        return None


def wait_for_metric(page, label: str, value: str, timeout: float = 180.0) -> None:  # noqa: ANN001
    deadline = time.time() + timeout
    while metric(page, label) != value:
        if time.time() > deadline:
            raise AssertionError(f"{label} is {metric(page, label)!r}, not {value!r}, after {timeout} s")
        time.sleep(0.2)


def wait_for_chart(page, title: str, timeout: float = 60.0) -> None:  # noqa: ANN001
    """Wait until a plotly chart with this title is drawn (its SVG title text)."""
    page.locator("[data-testid='stPlotlyChart'] .gtitle", has_text=title).first.wait_for(timeout=timeout * 1000)


def test_campaign_start_watch_reload_stop_resume_finish(store_dir: Path, tmp_path: Path) -> None:
    shots = Path(os.environ.get("MATLOOP_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local:2"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"http://localhost:{port}/campaigns?campaign=nowhere")
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("No campaign named 'nowhere'").wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "campaign-0-unknown.png"), full_page=True)

        sidebar = page.locator("[data-testid='stSidebar']")

        def fill(**values: str) -> None:
            for label, value in values.items():
                field = sidebar.get_by_label(label, exact=True)
                field.fill(value)
                field.press("Tab")
            sidebar.get_by_role("button", name="Start campaign").click()

        fill(Name="watched", Rows="4", Columns="4", Budget=str(BUDGET), Batch=str(BUDGET + 1))
        page.get_by_text(f"batch_size {BUDGET + 1} is larger than the budget {BUDGET}").wait_for(timeout=60_000)
        assert not page.get_by_text("Traceback").count()
        sidebar.screenshot(path=str(shots / "campaign-0-bad-batch.png"))
        fill(Batch="2")

        # Watch: the count of labelled designs grows while the campaign runs.
        seen: list[int] = []
        deadline = time.time() + 240
        while time.time() < deadline and len(seen) < 3:
            match = SOLVER_CALLS.fullmatch(metric(page, "Solver calls") or "")
            if match and int(match[1]) not in seen and 0 < int(match[1]) < BUDGET:
                seen.append(int(match[1]))
                if len(seen) == 2:
                    wait_for_chart(page, "best so far")
                    page.screenshot(path=str(shots / "campaign-1-running.png"), full_page=True)
            time.sleep(0.2)
        assert len(seen) >= 2 and seen == sorted(seen), f"solver calls seen: {seen}"
        assert "campaign=watched" in page.url and "job=" in page.url

        # Reload: the same campaign, still running.
        page.reload()
        page.wait_for_selector("[data-testid='stApp']")
        wait_for_metric(page, "State", "running", timeout=60)
        wait_for_chart(page, "best so far")

        # Stop: the campaign pauses after the labels in flight.
        page.get_by_role("button", name="Stop campaign").click()
        wait_for_metric(page, "State", "paused")
        page.get_by_role("button", name="Resume").wait_for(timeout=60_000)
        paused_at = int(SOLVER_CALLS.fullmatch(metric(page, "Solver calls"))[1])
        assert 0 < paused_at < BUDGET
        page.screenshot(path=str(shots / "campaign-2-paused.png"), full_page=True)

        # Resume: a new job finishes the budget.
        page.get_by_role("button", name="Resume").click()
        wait_for_metric(page, "State", "finished", timeout=300)
        page.get_by_text("Campaign finished").wait_for(timeout=60_000)
        assert metric(page, "Solver calls") == f"{BUDGET} / {BUDGET}"
        assert metric(page, "Failed labels") == "0"
        wait_for_chart(page, "best designs")
        page.get_by_role("button", name="Printable 3MF (zip)").wait_for(timeout=60_000)
        page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
        # One table of best designs. A fragment's last poll may leave a stale copy on screen for a moment
        # after the full redraw (a frontend race); it must be gone once the page has settled.
        from playwright.sync_api import expect

        expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1, timeout=30_000)
        page.screenshot(path=str(shots / "campaign-3-finished.png"), full_page=True)

        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="Best-so-far plot (PNG)").click()
        png = shots / "campaign-best-so-far.png"
        download.value.save_as(png)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    campaign = Campaign.open(Store(store_dir), "watched")
    assert campaign.state == "finished" and campaign.spent == BUDGET
    runs = [j for j in Store(store_dir).jobs() if j.kind == "run-campaign"]
    assert [j.status for j in runs] == ["done", "cancelled"]  # newest first: the resumed run, the stopped one


def test_enter_in_the_campaign_form_starts_nothing(store_dir: Path) -> None:
    """Enter in a field of the sidebar form submitted it: a stranger typing a name and Enter got a
    campaign at the default budget (full fidelity) while the form still showed the budget being typed."""
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local:1"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/campaigns")
        start = page.get_by_role("button", name="Start campaign")
        start.wait_for(timeout=60_000)
        name = page.get_by_label("Name", exact=True)
        name.fill("entered")
        name.press("Enter")
        budget = page.get_by_label("Budget", exact=True)
        budget.fill("8")
        budget.press("Enter")
        page.wait_for_timeout(3_000)
        assert "campaign=" not in page.url
        assert Store(store_dir).campaigns() == [] and Store(store_dir).jobs() == []
