"""In Chromium: a cell edge typed outside its range is refused on the page, and no STL of another size is offered.

Before the range moved from the widget to the page, the browser marked 0.5 mm red ("Please enter a
value between 1 and 200") and did not send it, the script kept 10 mm, and Prepare STL gave a 10 mm
cell. Here the STL of an in-range edge is measured: its extent is the edge typed.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]


def stl_extent(path: str) -> np.ndarray:
    """Extent (mm) of a binary STL along x, y, z."""
    data = Path(path).read_bytes()
    (count,) = struct.unpack("<I", data[80:84])
    records = np.frombuffer(data[84:84 + 50 * count],
                            dtype=np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attribute", "<u2")]))
    vertices = records["vertices"].reshape(-1, 3)
    return vertices.max(axis=0) - vertices.min(axis=0)


def test_an_out_of_range_cell_edge_is_refused_and_an_in_range_one_is_used(store_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.goto(f"http://localhost:{port}/spinodoid")
        prepare = page.get_by_role("button", name="Prepare STL")
        prepare.wait_for(timeout=60_000)
        edge = page.get_by_label("Cell edge (mm)", exact=True)

        edge.fill("0.005")
        edge.press("Enter")
        message = page.get_by_text("Cell edge (mm) must be 0.01 to 1000 mm, not 0.005 mm")
        message.wait_for(timeout=30_000)
        assert edge.input_value().startswith("0.005")  # the box shows what the page refuses
        deadline = time.time() + 10
        while prepare.is_enabled() and time.time() < deadline:
            time.sleep(0.1)
        assert prepare.is_disabled()
        assert page.get_by_text("Download STL").count() == 0
        page.screenshot(path=str(tmp_path / "refused.png"))

        edge.fill("12.5")
        edge.press("Enter")
        message.wait_for(state="detached", timeout=30_000)
        prepare.click()
        download_button = page.get_by_role("button", name="Download STL")
        download_button.wait_for(timeout=60_000)
        with page.expect_download() as download:
            download_button.click()
        np.testing.assert_allclose(stl_extent(download.value.path()), 12.5, rtol=1e-4)
