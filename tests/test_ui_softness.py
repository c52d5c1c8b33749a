"""AppTest of the glass-softness page: an example Kob–Andersen configuration and uploads (configurations
and trajectories) as prediction jobs; training a model as a job, listed and used for prediction."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine.analysis.softness.synthetic import vacancy_hopping
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


def _wait(at: AppTest, kind: str = "glass-softness", status: str = "done") -> AppTest:
    """Wait for the job named in the URL to end, then redraw the page."""
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = Store(os.environ["MATLOOP_STORE"])
    job_id = at.query_params["job"]
    job_id = job_id[0] if isinstance(job_id, list) else job_id
    deadline = time.time() + 240
    while not store.get_job(job_id).finished and time.time() < deadline:
        time.sleep(0.2)
    job = store.get_job(job_id)
    assert job.kind == kind and job.status == status, job.error
    at.run()
    assert not at.exception
    return at


def _run(at: AppTest) -> AppTest:
    _widget(at.button, "Compute softness").click().run()
    return _wait(at)


def _trajectory(seed: int, **options) -> bytes:
    trajectory, _ = vacancy_hopping(cells=(16, 9), seed=seed, **options)
    buffer = io.BytesIO()
    np.savez(buffer, types=(trajectory.species == "B").astype(int), positions=trajectory.positions,
             box=trajectory.box.L[:2])
    return buffer.getvalue()


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


def test_a_2d_trajectory_with_the_shipped_3d_model_gets_the_reason_and_no_job(page: AppTest, store_dir: Path) -> None:
    _widget(page.radio, "Configuration").set_value("Upload a file").run()
    page.file_uploader[0].upload("vac.npz", _trajectory(0, frames=60, hops=20)).run()
    at = _widget(page.button, "Compute softness").click().run()
    assert len(at.error) == 1 and "this model was trained on 3D configurations; the system is 2D" in at.error[0].value
    assert not at.exception and Store(store_dir).jobs() == []


def test_a_stable_threshold_above_p_c_is_said_in_the_page_words(page: AppTest, store_dir: Path) -> None:
    """The engine's message named its Python fields (stable_threshold) in the error box."""
    _widget(page.number_input, "Stable below (σ²)").set_value(0.5).run()
    at = _widget(page.button, "Compute softness").click().run()
    assert [e.value for e in at.error] == [
        "Cannot use this input: “Stable below” must be > 0 and at most “p_c” (0.2), got 0.5"]
    assert not at.exception and Store(store_dir).jobs() == []


def test_train_on_a_trajectory_then_compute_softness_of_another_with_the_trained_model(page: AppTest) -> None:
    at = page
    _widget(at.number_input, "Frames described").set_value(12).run()
    _widget(at.radio, "Training data").set_value("Upload files").run()
    _widget(at.file_uploader, "Training files (.npz)").upload("vacancies.npz", _trajectory(1, frames=300, hops=120)).run()
    _widget(at.text_input, "Name").set_value("vacancies 2D").run()
    at = _wait(_widget(at.button, "Train model").click().run(), "glass-softness-train")
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Training particles"]) > 50 and metrics["Training time"].endswith(" s")
    assert float(metrics["Held-out balanced accuracy"]) > 0.7, metrics
    (table,) = at.dataframe
    assert table.value.loc[0, "name"] == "vacancies 2D" and table.value.loc[0, "dim"] == 2

    model = _widget(at.selectbox, "Model")
    trained = next(o for o in model.options if o.startswith("vacancies 2D: softness (SVM), species A, 2D"))
    model.set_value(trained).run()
    _widget(at.radio, "Configuration").set_value("Upload a file").run()
    at.file_uploader[0].upload("other.npz", _trajectory(11, frames=300, hops=120)).run()
    at = _run(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Particles"] == "280" and metrics["Frames analysed"] == "12 of 300"
    assert int(metrics["Rearranging particle-frames"].replace(",", "")) > 20
    assert len(at.get("plotly_chart")) == 3  # particles, P(S) with the rearranging ones, P(R|S)
    assert any("of rearranging particles have S > 0 (rearranging: p_hop > 0.2 at the frame)" in c.value
               for c in at.caption)


def test_training_on_the_examples_shows_progress_and_can_be_cancelled(page: AppTest) -> None:
    at = page
    _widget(at.slider, "Training configurations").set_value(2).run()
    at = _widget(at.button, "Train model").click().run()
    store = Store(os.environ["MATLOOP_STORE"])
    job_id = at.query_params["job"]
    job_id = job_id[0] if isinstance(job_id, list) else job_id
    assert store.get_job(job_id).params["inputs"] == {"example": 2}
    deadline = time.time() + 120
    while "structure functions of configuration 1" not in store.get_job(job_id).message and time.time() < deadline:
        time.sleep(0.2)
    at.run()
    _widget(at.button, "Cancel job").click().run()
    _wait(at, "glass-softness-train", "cancelled")
    assert at.warning[0].value == "Job was cancelled."


def test_p_r_given_s_error_bars_are_wilson_intervals() -> None:
    """The bars of P(R|S) equal scipy's Wilson interval at one standard deviation."""
    from scipy.stats import binomtest, norm

    from ui.softness_figures import rearrangement_figure

    rng = np.random.default_rng(0)
    softness = rng.normal(size=5000)
    table = pd.DataFrame({"softness": softness, "rearranging": rng.random(5000) < 0.02 * np.exp(softness)})
    trace = rearrangement_figure(table).data[0]
    edges = np.linspace(np.quantile(softness, 0.005), np.quantile(softness, 0.995), 13)
    bins = np.clip(np.digitize(softness, edges) - 1, 0, 11)
    for x, y, up, down in zip(trace.x, trace.y, trace.error_y.array, trace.error_y.arrayminus):
        k = int(np.argmin(np.abs((edges[:-1] + edges[1:]) / 2 - x)))
        n, hits = int(np.sum(bins == k)), int(np.sum(table.rearranging[bins == k]))
        ci = binomtest(hits, n).proportion_ci(confidence_level=2 * norm.cdf(1) - 1, method="wilson")
        assert y == pytest.approx(hits / n) and y + up == pytest.approx(ci.high) and y - down == pytest.approx(ci.low)
