"""The damage map as a browser draws it: d = 0 and d = 1 in the end colours of its colour scale.

Streamlit's plotly theme uses the colours #000001 … #000040 as placeholders and replaces them in
the browser wherever they occur in a figure, data included; Inferno starts at #000004, so d = 0
was drawn pink (#ffabab, a theme colour). The reference is the colour scale itself (matplotlib's
and plotly's Inferno: #000004 at 0, #fcffa4 at 1), read from screen pixels at known nodes.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command
from engine.store import Store
from test_ui_label_page import finished_label_job

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]

#: Inferno's two ends (Smith & van der Walt's colormap as in matplotlib and plotly), RGB 0–255.
INFERNO_ENDS = {0.0: (0x00, 0x00, 0x04), 1.0: (0xFC, 0xFF, 0xA4)}
#: Largest allowed difference per channel (out of 255): anti-aliasing and colour management.
TOLERANCE = 6


def node_pixel(box: dict, x: np.ndarray, y: np.ndarray, i: int, j: int) -> tuple[float, float]:
    """Page position of node (x[i], y[j]) in a heatmap image whose cells are centred on the nodes."""
    dx, dy = x[1] - x[0], y[1] - y[0]
    left, right, bottom, top = x[0] - dx / 2, x[-1] + dx / 2, y[0] - dy / 2, y[-1] + dy / 2
    return (box["x"] + (x[i] - left) / (right - left) * box["width"],
            box["y"] + (top - y[j]) / (top - bottom) * box["height"])


def test_damage_map_draws_d0_and_d1_in_the_colour_scale_end_colours(store_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    x = y = np.linspace(0.0, 1.0, 33)  # mm
    damage = np.where(x[None, :] < 0.5, 0.0, 1.0).repeat(y.size, axis=0)  # left half intact, right half broken
    job_id = finished_label_job(Store(store_dir), damage, x, y)
    nodes = {0.0: (8, 24), 1.0: (24, 8)}  # (i, j): x = 0.25 mm, y = 0.75 mm (d = 0); x = 0.75, y = 0.25 (d = 1)
    assert all(damage[j, i] == d for d, (i, j) in nodes.items())

    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/label_design?job={job_id}")
        page.wait_for_selector("[data-testid='stApp']")
        chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="damage d at the end of the run")
        image = chart.locator(".heatmaplayer image")
        image.wait_for(timeout=60_000)
        image.scroll_into_view_if_needed()
        deadline = time.time() + 30
        while page.locator("[data-testid='stStatusWidget']").count() and time.time() < deadline:
            time.sleep(0.2)  # stale elements are faded while the script runs
        time.sleep(1.0)
        page.screenshot(path=str(tmp_path / "label-page.png"), full_page=True)
        chart_box, image_box = chart.bounding_box(), image.bounding_box()
        shot = Image.open(io.BytesIO(chart.screenshot())).convert("RGB")

    seen = {}
    for d, (i, j) in nodes.items():
        px, py = node_pixel(image_box, x, y, i, j)
        seen[d] = shot.getpixel((round(px - chart_box["x"]), round(py - chart_box["y"])))
    expected = {d: INFERNO_ENDS[d] for d in nodes}
    assert all(max(abs(a - b) for a, b in zip(seen[d], expected[d])) <= TOLERANCE for d in nodes), (
        f"pixels at d = 0 and d = 1: {seen}, colour scale ends {expected}")
