"""AppTest of the glass-softness page: an example Kob–Andersen configuration and an upload, as jobs."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.store import Store

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
PAGE = "views/softness.py"
GLASS = Path(__file__).parent / "data" / "glass"


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> AppTest:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE).run()
    assert not at.exception and at.title[0].value == "Glass softness"
    return at


def _widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def _run(at: AppTest) -> AppTest:
    _widget(at.button, "Compute softness").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = Store(os.environ["MATLOOP_STORE"])
    job_id = at.query_params["job"]
    job_id = job_id[0] if isinstance(job_id, list) else job_id
    deadline = time.time() + 240
    while not store.get_job(job_id).finished and time.time() < deadline:
        time.sleep(0.2)
    job = store.get_job(job_id)
    assert job.kind == "glass-softness" and job.status == "done", job.error
    at.run()
    assert not at.exception
    return at


def test_example_configuration_shows_softness_and_its_relation_to_propensity(page: AppTest) -> None:
    at = _run(page)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Particles"] == "4,096"
    assert float(metrics["Pearson(ridge, propensity)"]) > 0.3  # configuration 401: 0.364 (the hardest of the three)
    assert 0.1 < float(metrics["Soft A particles (S > 0)"].rstrip(" %")) / 100 < 0.6
    assert len(at.get("plotly_chart")) == 4  # 3D, P(S), P(R|S), predicted vs measured
    (download,) = at.get("download_button")
    assert download.proto.label == "Per-particle results (CSV)"


def test_an_upload_without_species_gets_an_error_box_and_no_job(page: AppTest, store_dir: Path) -> None:
    _widget(page.radio, "Configuration").set_value("Upload a file").run()
    page.file_uploader[0].upload("pos.csv", b"# box: 12 12 12\nx,y,z\n0,0,0\n1,1,1\n", "text/csv").run()
    at = _widget(page.button, "Compute softness").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "the configuration has no species" in at.error[0].value, [e.value for e in at.error]
    assert "job" not in at.query_params and Store(store_dir).jobs() == []


def test_an_uploaded_npz_with_the_wrong_box_is_refused(page: AppTest, store_dir: Path) -> None:
    _widget(page.radio, "Configuration").set_value("Upload a file").run()
    page.file_uploader[0].upload("c.npz", (GLASS / "ka3d_T0.44_config401.npz").read_bytes(), "application/octet-stream").run()
    _widget(page.number_input, "Box length of an .npz file (σ_AA)").set_value(10.0).run()
    at = _widget(page.button, "Compute softness").click().run()
    assert len(at.error) == 1 and "c.npz: initial positions must lie in [0, L) = [0, 10)" in at.error[0].value, \
        [e.value for e in at.error]
    assert Store(store_dir).jobs() == []
