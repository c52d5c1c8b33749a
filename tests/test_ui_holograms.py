"""AppTest of the Holograms page: generate a frame, characterise it as a job, see the results against the
truth; bad uploads and a negative wavelength get a message and start nothing (issue 13, must-show 5)."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine.store import Store
from support_pages import record_submitted_jobs

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
PAGE = "views/holograms.py"


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> AppTest:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Holograms"
    return at


def _widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def _job_id(at: AppTest) -> str:
    job_id = at.query_params["job"]
    return job_id[0] if isinstance(job_id, list) else job_id


def test_a_generated_frame_is_characterised_and_matches_its_truth(page: AppTest) -> None:
    for label, value in (("Rows (px)", 256), ("Columns (px)", 256), ("Fewest particles", 1), ("Most particles", 1),
                         ("Seed", 2), ("Largest crop (px)", 201)):
        _widget(page.number_input, label).set_value(value)
    at = page.run()
    _widget(at.button, "Characterise").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = Store(os.environ["MATLOOP_STORE"])
    deadline = time.time() + 180
    while not store.get_job(_job_id(at)).finished and time.time() < deadline:
        time.sleep(0.2)
    job = store.get_job(_job_id(at))
    assert job.kind == "characterise-hologram" and job.status == "done", job.error
    assert job.params["source"]["generate"]["shape"] == [256, 256] and job.params["options"]["max_crop"] == 201
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Particles"] == "1" and metrics["Fitted"] == "1 of 1"
    assert metrics["Within 1 % / 0.005 / 1 %"] == "1 of 1"
    particles, truth = at.dataframe[0].value, at.dataframe[1].value
    assert list(particles.columns[:7]) == ["#", "x (px)", "y (px)", "z (µm)", "a_p (µm)", "n_p", "χ²"]
    assert particles["fit"].tolist() == ["ok"] and 0.8 < float(particles["χ²"].iloc[0]) < 1.3
    assert re.fullmatch(r"\d+\.\d+ ± 0\.\d+", particles["a_p (µm)"].iloc[0])       # value ± uncertainty
    assert abs(truth["Δa_p (%)"].iloc[0]) < 1 and abs(truth["Δn_p"].iloc[0]) < 0.005 and abs(truth["Δz (%)"].iloc[0]) < 1
    assert len(at.get("plotly_chart")) == 2                                  # frame with overlay, radial profile
    assert any(m.value.startswith("**Against the truth** (1 of 1 true particles found, 0 false)") for m in at.markdown)
    downloads = [d.proto.label for d in at.get("download_button")]
    assert downloads == ["Particle table (CSV, 1 rows)", "True particles (CSV)"]


def test_bad_uploads_get_an_error_box_and_no_job(page: AppTest, store_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    record_submitted_jobs(monkeypatch)
    _widget(page.radio, "Source").set_value("Upload an image").run()
    _widget(page.button, "Characterise").click().run()
    assert any("upload a hologram image first" in e.value for e in page.error)
    rgb = io.BytesIO()
    Image.fromarray(np.dstack([np.full((64, 64), v, dtype=np.uint8) for v in (10, 20, 30)])).save(rgb, format="PNG")
    for name, content, message in [
        ("notes.png", b"lab notes, not an image", "notes.png is not a PNG, TIFF or NumPy .npy image"),
        ("colour.png", rgb.getvalue(), "colour.png is a colour image whose red, green and blue channels differ"),
        ("empty.tif", b"", "empty.tif is empty"),
    ]:
        at = page.file_uploader[0].upload(name, content, "image/png").run()  # said once uploaded, not on Characterise
        assert not at.exception
        errors = [e.value for e in at.error]
        assert any(e.startswith("Cannot characterise this file: ") and message in e for e in errors), errors
        assert _widget(at.button, "Characterise").proto.disabled
    assert Store(store_dir).jobs(limit=10) == [] and "job" not in page.query_params


def test_an_uploaded_png_is_read_and_submitted(page: AppTest, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_submitted_jobs(monkeypatch)
    _widget(page.radio, "Source").set_value("Upload an image").run()
    counts = io.BytesIO()
    Image.fromarray(np.full((96, 128), 16000, dtype=np.uint16)).save(counts, format="PNG")
    at = page.file_uploader[0].upload("flat.png", counts.getvalue(), "image/png").run()
    _widget(at.button, "Characterise").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(c.value.startswith("Read flat.png: 96×128 px, PNG, 16-bit grey; divided by the frame's median")
               for c in at.caption)
    (job,) = Store(store_dir).jobs(limit=10)
    assert job.kind == "characterise-hologram" and job.params["source"]["name"] == "flat.png"
    assert job.params["instrument"] == {"wavelength": 0.447, "magnification": 0.048, "n_m": 1.34}


def test_a_frame_that_cannot_hold_its_particles_is_refused(page: AppTest, store_dir: Path) -> None:
    for label, value in (("Rows (px)", 128), ("Columns (px)", 128), ("Fewest particles", 3), ("Most particles", 3),
                         ("Least separation (px)", 500.0)):
        _widget(page.number_input, label).set_value(value)
    at = page.run()
    _widget(at.button, "Characterise").click().run()
    assert not at.exception
    assert any(e.value.startswith("Cannot characterise this frame: could not place 3 centres 500") for e in at.error)
    _widget(at.number_input, "Fewest particles").set_value(4)
    at = at.run()
    _widget(at.button, "Characterise").click().run()
    assert any("the fewest particles (4) must not exceed the most (3)" in e.value for e in at.error)
    assert Store(store_dir).jobs(limit=10) == []


def test_a_negative_wavelength_is_refused_and_nothing_starts(page: AppTest, store_dir: Path) -> None:
    _widget(page.number_input, "Wavelength λ (µm)").set_value(-0.447)
    at = page.run()
    assert any(e.value.startswith("Wavelength λ (µm) must be 0.2 to 2 µm, not -0.447 µm") for e in at.error)
    assert _widget(at.button, "Characterise").proto.disabled
    assert Store(store_dir).jobs(limit=10) == []
