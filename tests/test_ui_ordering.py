"""AppTest of the crystal-order page: generate or upload, classify as a job, results against the truth."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.analysis.ordering.configurations import generate, write_configuration
from engine.store import Store

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
PAGE = "views/ordering.py"


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> AppTest:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Crystal order"
    return at


def _widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def _classify(at: AppTest) -> AppTest:
    """Press Classify, wait for the job, redraw; the job must succeed."""
    _widget(at.button, "Classify").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = Store(os.environ["MATLOOP_STORE"])
    job_id = at.query_params["job"]
    job_id = job_id[0] if isinstance(job_id, list) else job_id
    deadline = time.time() + 180
    while not store.get_job(job_id).finished and time.time() < deadline:
        time.sleep(0.2)
    job = store.get_job(job_id)
    assert job.kind == "identify-structures" and job.status == "done", job.error
    at.run()
    assert not at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_generated_bcc_crystal_is_recognised_by_the_shipped_mlp(page: AppTest) -> None:
    _widget(page.selectbox, "Structure").set_value("bcc").run()
    _widget(page.number_input, "Unit cells per axis").set_value(5)
    at = _classify(page.run())
    metrics = _metrics(at)
    assert metrics["Particles"] == "250"
    assert float(metrics["Agreement with true labels"].rstrip(" %")) >= 95.0
    assert len(at.get("plotly_chart")) == 4  # 3D view, fractions, q4 and q6 histograms
    summary = at.dataframe[0].value
    assert summary["class"].iloc[0] == "bcc" and "mean confidence" in summary.columns
    (download,) = at.get("download_button")
    assert download.proto.label == "Per-particle results (CSV)"


def test_unsupervised_method_shows_an_embedding_and_finds_fcc_and_hcp(page: AppTest) -> None:
    _widget(page.selectbox, "Configuration").set_value("fcc-hcp").run()
    _widget(page.number_input, "Unit cells per axis").set_value(4)
    _widget(page.selectbox, "Method").set_value("gmm").run()
    _widget(page.selectbox, "Classes K").set_value(2)
    at = _classify(page.run())
    assert float(_metrics(at)["Adjusted Rand index"]) >= 0.9
    assert len(at.get("plotly_chart")) == 5  # + the 2D embedding
    assert _metrics(at)["K (mixture components)"] == "2"


def test_an_uploaded_csv_is_classified(page: AppTest, tmp_path: Path) -> None:
    path = write_configuration(generate("lattice", structure="hcp", cells=4, seed=11), tmp_path / "hcp.csv")
    _widget(page.radio, "Source").set_value("Upload a file").run()
    page.file_uploader[0].upload("hcp.csv", path.read_bytes(), "text/csv").run()
    at = _classify(page)
    assert _metrics(at)["Particles"] == "256"
    assert float(_metrics(at)["Agreement with true labels"].rstrip(" %")) >= 95.0


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.xyz", b"hello\n\nA 0 0 0\n", "Cannot use this file: bad.xyz, line 1: expected the particle count"),
    ("nan.csv", b"# box: 5 5 5\nx,y,z\n0,0,0\nnan,1,1\n", "NaN or infinite coordinates"),
    ("outside.csv", b"# box: 4 4 4\n# periodic: false false false\nx,y,z\n0,0,0\n3,0,0\n",
     "lie outside the non-periodic box"),
    ("binary.csv", b"\x80\x04\x95 pickle-like bytes", "no box; add a header line '# box: Lx Ly Lz' (or 'Lx Ly' for 2D)"),
    ("big.xyz", b"1\n" + b" " * 2000, "at most 0 MiB allowed"),
])
def test_bad_uploads_get_an_error_box_and_no_job(page: AppTest, store_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                 name: str, content: bytes, message: str) -> None:
    if name == "big.xyz":
        import engine.analysis.ordering.classify_job as classify_job

        monkeypatch.setattr(classify_job, "MAX_UPLOAD_BYTES", 1000)
    _widget(page.radio, "Source").set_value("Upload a file").run()
    page.file_uploader[0].upload(name, content, "text/plain").run()
    at = _widget(page.button, "Classify").click().run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value, [e.value for e in at.error]
    assert "job" not in at.query_params and Store(store_dir).jobs() == []


def test_a_refused_upload_no_longer_shows_the_previous_job(page: AppTest, tmp_path: Path) -> None:
    path = write_configuration(generate("lattice", structure="hcp", cells=4, seed=11), tmp_path / "hcp.csv")
    _widget(page.radio, "Source").set_value("Upload a file").run()
    page.file_uploader[0].upload("hcp.csv", path.read_bytes(), "text/csv").run()
    at = _classify(page)
    assert "Agreement with true labels" in _metrics(at)
    at.file_uploader[0].upload("bad.csv", b"# box: nan 5 5\nx,y,z\n0,0,0\n", "text/csv").run()
    at = _widget(at.button, "Classify").click().run()
    assert len(at.error) == 1 and "lengths > 0 (finite numbers)" in at.error[0].value, [e.value for e in at.error]
    assert "job" not in at.query_params and not at.metric  # the hcp result is not shown under the error


def test_classify_without_a_file_asks_for_one(page: AppTest, store_dir: Path) -> None:
    _widget(page.radio, "Source").set_value("Upload a file").run()
    at = _widget(page.button, "Classify").click().run()
    assert len(at.error) == 1 and "Upload a configuration file first" in at.error[0].value
    assert Store(store_dir).jobs() == []


def test_too_few_particles_for_the_method_is_a_failed_job_with_the_reason(page: AppTest) -> None:
    _widget(page.selectbox, "Structure").set_value("sc").run()
    _widget(page.number_input, "Unit cells per axis").set_value(2)
    at = _widget(page.button, "Classify").click().run()
    store = Store(os.environ["MATLOOP_STORE"])
    (job,) = store.jobs()
    deadline = time.time() + 120
    while not store.get_job(job.id).finished and time.time() < deadline:
        time.sleep(0.2)
    at.run()
    assert store.get_job(job.id).status == "failed"
    assert any("at least 15 particles; the system has 8" in e.value for e in at.error), [e.value for e in at.error]


def test_common_neighbour_analysis_names_structures_too(page: AppTest) -> None:
    _widget(page.selectbox, "Configuration").set_value("fcc-hcp").run()
    _widget(page.number_input, "Unit cells per axis").set_value(4)
    _widget(page.selectbox, "Method").set_value("cna").run()
    at = _classify(page.run())
    assert float(_metrics(at)["Agreement with true labels"].rstrip(" %")) >= 95.0
    assert set(at.dataframe[0].value["class"]) <= {"fcc", "hcp", "bcc", "ico", "other"}
    assert len(at.get("plotly_chart")) == 4  # no embedding for a rule


def test_the_diffraction_cnn_classifies_from_the_page(page: AppTest) -> None:
    _widget(page.selectbox, "Structure").set_value("hcp").run()
    _widget(page.number_input, "Unit cells per axis").set_value(7)
    _widget(page.selectbox, "Method").set_value("diffraction-cnn").run()
    at = _classify(page.run())
    assert float(_metrics(at)["Agreement with true labels"].rstrip(" %")) >= 95.0
    assert at.dataframe[0].value["class"].iloc[0] == "hcp"
