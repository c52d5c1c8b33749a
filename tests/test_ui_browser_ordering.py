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


def _tilted_tall_csv(path: Path) -> Path:
    """1,500 random points in a 10 × 10 × 40 box with tilt factors xy 0.5, yz 0.2 (CSV, centred on the box)."""
    import freud
    import numpy as np

    box = freud.box.Box(Lx=10, Ly=10, Lz=40, xy=0.5, xz=0, yz=0.2)
    points = box.make_absolute(np.random.default_rng(1).random((1500, 3)))
    path.write_text("# box: 10 10 40 0.5 0 0.2\nx,y,z\n" + "".join(f"{a:.5f},{b:.5f},{c:.5f}\n" for a, b, c in points))
    return path


def _wait_for_result(page) -> None:
    page.get_by_text("Job finished").wait_for(timeout=180_000)
    page.get_by_text("Per-particle results (CSV)").first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)


def test_a_file_too_big_for_the_uploader_leaves_the_file_in_use_named(store_dir: Path, tmp_path: Path) -> None:
    """Streamlit refuses an over-size file in the browser and keeps sending the previous one: the page says which
    file it classifies, and the result names it. Then a tall triclinic box: tilt factors shown, the scene in view."""
    from engine.analysis.ordering.configurations import generate, write_configuration

    small = write_configuration(generate("lattice", structure="hcp", cells=4, seed=11), tmp_path / "hcp.csv")
    big = b"# box: 5 5 5\nx,y,z\n" + b"0,0,0\n" * (21 * 2**20 // 6)  # 21 MiB, over the uploader's 20 MB
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    shots = Path(os.environ.get("MATLOOP_SCREENSHOTS", tmp_path))
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/ordering")
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("Crystal order", exact=True).first.wait_for(timeout=60_000)
        page.get_by_text("Upload a file").click()
        files = page.locator("[data-testid='stFileUploader'] input[type='file']")
        files.wait_for(state="attached", timeout=30_000)
        files.set_input_files(str(small))
        page.get_by_text("In use: hcp.csv").wait_for(timeout=30_000)
        files.set_input_files(files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": big}])
        page.get_by_text("File must be 20.0MB or smaller").wait_for(timeout=30_000)  # the uploader's refusal
        page.wait_for_timeout(1500)
        assert page.get_by_text("In use: hcp.csv").count() == 1  # what the page goes on using is said
        assert page.get_by_text("never reaches the page").count() == 1
        choose(page, "Method", "cna")
        page.get_by_role("button", name="Classify").click()
        _wait_for_result(page)
        assert page.get_by_text("Particles: file hcp.csv").count() == 1
        assert page.get_by_text("Traceback").count() == 0

        page.get_by_role("button", name="Remove big.csv").click()
        page.get_by_role("button", name="Remove hcp.csv").click()
        page.get_by_text("In use: hcp.csv").wait_for(state="detached", timeout=30_000)
        files.set_input_files(str(_tilted_tall_csv(tmp_path / "tilted.csv")))
        page.get_by_text("In use: tilted.csv").wait_for(timeout=30_000)
        assert page.get_by_text("tilt factors xy 0.5, yz 0.2 (dimensionless)").count() == 1
        page.get_by_role("button", name="Classify").click()
        page.get_by_text("Particles: file tilted.csv").wait_for(timeout=180_000)
        _wait_for_result(page)
        assert page.get_by_text("tilt factors xy 0.5, yz 0.2 (dimensionless)").count() == 2  # file and result
        scene = page.evaluate("() => { const s = document.querySelector('.js-plotly-plot')._fullLayout.scene;"
                              " return {mode: s.aspectmode, ratio: s.aspectratio,"
                              " titles: [s.xaxis.title.text, s.yaxis.title.text, s.zaxis.title.text]}; }")
        assert scene["mode"] == "manual" and scene["titles"] == ["x", "y", "z"]
        assert scene["ratio"]["z"] == pytest.approx(1.0) and scene["ratio"]["x"] < 0.5  # the tall box in proportion
        page.set_viewport_size({"width": 1280, "height": 3000})
        page.wait_for_timeout(2500)  # let the WebGL view draw
        page.screenshot(path=str(shots / "ordering-tall-tilted-box.png"), full_page=True)


@pytest.mark.parametrize("seed", ["4294967296", "-1"])
def test_a_seed_out_of_range_is_refused_in_the_browser(store_dir: Path, seed: str) -> None:
    from playwright.sync_api import expect

    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/ordering")
        page.wait_for_selector("[data-testid='stApp']")
        page.get_by_text("Crystal order", exact=True).first.wait_for(timeout=60_000)
        box = page.get_by_label("Seed", exact=True)
        box.fill(seed)
        box.press("Enter")
        page.get_by_text(f"Seed must be 0 to 2147483647, not {seed}").wait_for(timeout=30_000)
        # the message and the disabled button come in one rerun, but are drawn one after the other
        expect(page.get_by_role("button", name="Classify")).to_be_disabled(timeout=30_000)
        expect(page.get_by_text("Classify waits for inputs in range: Seed")).to_have_count(1, timeout=30_000)
