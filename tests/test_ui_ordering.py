"""AppTest of the crystal-order page: generate or upload, classify as a job, results against the truth."""

from __future__ import annotations

import json
import os
import re
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
    truths = next(c.value for c in at.caption if c.value.startswith("True labels in each class"))
    expected = r"True labels in each class: cluster 1 — fcc 100\.0 %; cluster 2 — hcp 100\.0 %\."
    assert re.fullmatch(expected, truths), truths
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


# --- stranger-test faults: which file is used, tilted boxes, the scene, the table, counts, seeds, the model ---


def _tilted_csv(path: Path, tilts: str = "0.5 0 0.2", lengths: str = "10 10 40", n: int = 400) -> Path:
    """Random points in a triclinic box (freud tilt factors), coordinates centred on the box."""
    import freud
    import numpy as np

    Lx, Ly, Lz = map(float, lengths.split())
    xy, xz, yz = map(float, tilts.split())
    box = freud.box.Box(Lx=Lx, Ly=Ly, Lz=Lz, xy=xy, xz=xz, yz=yz)
    points = box.make_absolute(np.random.default_rng(3).random((n, 3)))
    path.write_text(f"# box: {lengths} {tilts}\nx,y,z\n" + "".join(f"{a:.6f},{b:.6f},{c:.6f}\n" for a, b, c in points))
    return path


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "info", "error", "warning", "success")
                     for e in at.get(kind))


def test_the_file_in_use_is_named_as_soon_as_it_is_uploaded(page: AppTest, tmp_path: Path) -> None:
    path = write_configuration(generate("lattice", structure="hcp", cells=4, seed=11), tmp_path / "hcp.csv")
    _widget(page.radio, "Source").set_value("Upload a file").run()
    at = page.file_uploader[0].upload("hcp.csv", path.read_bytes(), "text/csv").run()
    (info,) = at.info
    assert info.value.startswith("In use: **hcp.csv** (16.1 kB): 256 particles, 3D box 4 × 6.93 × 6.53"), info.value
    assert "refused by the uploader" in _texts(at)  # what happens to a file over the limit is said beside it
    at = _classify(at)
    assert "Particles: file **hcp.csv**" in _texts(at)  # the result names the file it was computed from


def test_a_file_refused_for_its_size_replaces_the_one_in_use(page: AppTest, tmp_path: Path, store_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.analysis.ordering.classify_job as classify_job

    monkeypatch.setattr(classify_job, "MAX_UPLOAD_BYTES", 20_000)
    path = write_configuration(generate("lattice", structure="hcp", cells=4, seed=11), tmp_path / "hcp.csv")
    _widget(page.radio, "Source").set_value("Upload a file").run()
    at = page.file_uploader[0].upload("hcp.csv", path.read_bytes(), "text/csv").run()
    assert "In use: **hcp.csv**" in at.info[0].value
    big = write_configuration(generate("lattice", structure="fcc", cells=6, seed=1), tmp_path / "big.csv")
    at = at.file_uploader[0].upload("big.csv", big.read_bytes(), "text/csv").run()
    assert not at.info and len(at.error) == 1 and "big.csv" in at.error[0].value and "MiB" in at.error[0].value
    at = _widget(at.button, "Classify").click().run()
    assert len(at.error) == 1 and not at.info and Store(store_dir).jobs() == []  # hcp.csv is not analysed instead


def test_a_triclinic_box_shows_its_tilt_factors(page: AppTest, tmp_path: Path) -> None:
    path = _tilted_csv(tmp_path / "tilted.csv")
    _widget(page.radio, "Source").set_value("Upload a file").run()
    at = page.file_uploader[0].upload("tilted.csv", path.read_bytes(), "text/csv").run()
    assert "3D box 10 × 10 × 40 (the file's length unit), tilt factors xy 0.5, yz 0.2 (dimensionless)" \
        in at.info[0].value, at.info[0].value
    _widget(at.selectbox, "Method").set_value("cna").run()
    at = _classify(at)
    assert "tilt factors xy 0.5, yz 0.2 (dimensionless)" in _texts(at)  # in the result's box too
    assert "xz" not in _texts(at)  # a zero tilt is not listed


def test_an_orthorhombic_box_names_no_tilt(page: AppTest) -> None:
    at = _classify(page)
    assert "3D box" in _texts(at) and "tilt" not in _texts(at)


def test_a_mixture_reads_well_numbers_in_words_table_and_scene(page: AppTest) -> None:
    _widget(page.selectbox, "Configuration").set_value("fcc-hcp").run()
    _widget(page.number_input, "Unit cells per axis").set_value(4)
    at = _classify(page.run())  # mlp: fcc, hcp and a few "other"
    summary = at.dataframe[0].value
    assert "other" in set(summary["class"])
    # numbers are numbers (right-aligned in the grid); "other" has none, shown as the table's placeholder
    assert summary["mean confidence"].dtype.kind == "f" and summary["particles"].dtype.kind == "i"
    assert summary.loc[summary["class"] == "other", "mean confidence"].isna().all()
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["mean confidence"]["type_config"]["type"] == "number" and at.dataframe[0].proto.placeholder == "–"
    text = _texts(at)
    assert f"3 classes in {_metrics(at)['Particles']} particles" in text and "with the shipped model" in text
    scene = at.get("plotly_chart")[0].proto.spec
    assert '"aspectmode": "manual"' in scene or '"aspectmode":"manual"' in scene


def test_one_class_is_one_class(page: AppTest) -> None:
    _widget(page.number_input, "Unit cells per axis").set_value(4)
    _widget(page.selectbox, "Method").set_value("gmm").run()
    at = _classify(page.run())  # a single fcc crystal: one cluster
    text = _texts(at)
    assert "1 class in 256 particles" in text, text
    assert not re.search(r"\b1 (classes|particles|components)\b", text)


@pytest.mark.parametrize("value", [2**32, 2**32 + 5, -1])
@pytest.mark.parametrize("label", ["Seed", "Method seed"])
def test_seeds_out_of_range_are_refused_on_the_page(page: AppTest, store_dir: Path, label: str, value: int) -> None:
    if label == "Method seed":
        _widget(page.selectbox, "Method").set_value("gmm").run()
    at = _widget(page.number_input, label).set_value(value).run()
    assert any(f"{label} must be 0 to 2147483647" in e.value and str(value) in e.value for e in at.error), \
        [e.value for e in at.error]
    assert _widget(at.button, "Classify").disabled and Store(store_dir).jobs() == []


@pytest.mark.parametrize("method", ["mlp", "q6-threshold", "diffraction-cnn"])
def test_supervised_methods_say_they_use_the_shipped_model(page: AppTest, method: str) -> None:
    at = _widget(page.selectbox, "Method").set_value(method).run()
    assert not at.text_input  # no model field that could be left empty
    caption = next(c.value for c in at.caption if c.value.startswith("Model:"))
    assert "shipped with matloop" in caption and "This page always uses the shipped model." in caption
    if method != "diffraction-cnn":
        assert "bond_order.json" in caption
    else:
        assert "bond-order" not in caption  # the CNN reads diffraction images


def test_unsupervised_methods_default_to_the_auto_descriptors(page: AppTest) -> None:
    """"auto" (d̄_6 when it finds two phases, else q_l) separates a slab from its liquid and fcc
    from hcp at the engine's defaults (tests/test_analysis_ordering_methods.py holds the ARIs)."""
    _widget(page.selectbox, "Method").set_value("dbscan").run()
    assert _widget(page.selectbox, "Descriptors").value == "auto"
    at = _widget(page.selectbox, "Configuration").set_value("slab").run()
    assert _widget(at.selectbox, "Descriptors").value == "auto"


# --- the figure and phrase helpers (pure functions) ---


def test_counts_take_the_right_number() -> None:
    from ui.ordering_figures import plural

    assert [plural(n, "class") for n in (0, 1, 2)] == ["0 classes", "1 class", "2 classes"]
    assert plural(1, "particle") == "1 particle" and plural(1728, "particle") == "1,728 particles"
    assert plural(1, "component") == "1 component" and plural(3, "component") == "3 components"


def test_box_text_lists_non_zero_tilt_factors_and_the_periodic_axes() -> None:
    from ui.ordering_figures import box_text

    assert box_text([10, 10, 40], [True] * 3) == "3D box 10 × 10 × 40, periodic along x, y, z"
    assert box_text([10, 10, 40], [True, True, False], [0.5, 0.0, -0.2], "σ") == (
        "3D box 10 × 10 × 40 (σ), tilt factors xy 0.5, yz -0.2 (dimensionless), periodic along x, y")
    assert box_text([8, 6], [False, False], [0.25]) == (
        "2D box 8 × 6, tilt factor xy 0.25 (dimensionless), not periodic")
    assert "tilt" not in box_text([5, 5, 5], [True] * 3, [0.0, 0.0, 0.0])


def _random_table(lengths: tuple[float, ...], n: int = 500) -> "pd.DataFrame":
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame((rng.random((n, 3)) - 0.5) * np.array(lengths), columns=list("xyz"))
    table["label"] = np.where(table.z > 0, "fcc", "hcp")
    return table


@pytest.mark.parametrize("lengths", [(10, 10, 40), (40, 40, 5), (10, 10, 10)])
def test_the_scene_keeps_the_box_in_proportion_and_in_view(lengths: tuple[float, ...]) -> None:
    import numpy as np

    from ui.ordering_figures import scene_figure

    figure = scene_figure(_random_table(lengths), {"fcc": "#2ca02c", "hcp": "#d62728"}, 3, "σ")
    scene = figure.layout.scene
    ratio = np.array([scene.aspectratio.x, scene.aspectratio.y, scene.aspectratio.z])
    extent = np.array(lengths, dtype=float)
    # the longest edge has the size of plotly's default cube (which the default camera frames), the others in proportion
    assert scene.aspectmode == "manual" and ratio.max() == pytest.approx(1.0)
    np.testing.assert_allclose(ratio, np.maximum(extent / extent.max(), 0.05), rtol=0.05)
    assert [scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text] == ["x", "y", "z"]
    assert "σ" in figure.layout.title.text and figure.layout.showlegend


def test_histograms_of_all_classes_share_their_bins() -> None:
    import numpy as np

    from ui.ordering_figures import histogram

    table = _random_table((10, 10, 10))
    noise = 0.01 * np.random.default_rng(1).standard_normal(len(table))
    table["q6"] = np.where(table.label == "fcc", 0.57, 0.48) + noise
    figure = histogram(table, {"fcc": "#2ca02c", "hcp": "#d62728"}, "q6")
    bins = {(t.xbins.start, t.xbins.end, t.xbins.size) for t in figure.data}
    assert len(bins) == 1
    start, end, size = bins.pop()
    assert start <= table.q6.min() and end >= table.q6.max() and (end - start) / size == pytest.approx(40, rel=1e-3)
