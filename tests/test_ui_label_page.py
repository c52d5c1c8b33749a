"""The label page refuses solver set-ups that cannot label the design: an error box, no job."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from designs.checkerboard import Checkerboard
from engine.store import Store

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


@pytest.fixture
def label_page(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> AppTest:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/label_design.py").run()
    assert not at.exception
    return at


def _widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def _click_label(at: AppTest) -> AppTest:
    return _widget(at.button, "Label design").click().run()


@pytest.mark.parametrize(("configure", "message"), [
    (lambda at: _widget(at.number_input, "Element size (mm)").set_value(0.02),
     "element_size 0.02 mm does not resolve the phase-field length ell = 0.03125 mm: at most ell/2 = 0.015625 mm"),
    (lambda at: _widget(at.number_input, "Phase-field length ℓ (mm)").set_value(0.0),
     "ell must be a finite number in (0, 1), got 0.0"),
])
def test_a_mesh_that_does_not_resolve_ell_gets_an_error_box_and_no_job(label_page: AppTest, store_dir: Path,
                                                                       configure, message: str) -> None:
    configure(label_page)
    at = _click_label(label_page.run())
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value, [e.value for e in at.error]
    assert "job" not in at.query_params
    assert Store(store_dir).jobs() == []


def test_elements_per_block_too_coarse_for_the_grid_is_refused(label_page: AppTest, store_dir: Path) -> None:
    _widget(label_page.radio, "Mesh").set_value("elements per block").run()
    _widget(label_page.number_input, "Elements per block side").set_value(4)
    at = _click_label(label_page.run())
    assert len(at.error) == 1
    assert "elements_per_block = 4 on a 8×8 grid gives elements of 0.03125 × 0.03125 mm" in at.error[0].value
    assert Store(store_dir).jobs() == []


def test_a_set_up_that_resolves_ell_starts_the_job(label_page: AppTest, store_dir: Path) -> None:
    label_page.selectbox[0].set_value("fast").run()
    _widget(label_page.number_input, "Element size (mm)").set_value(1 / 128)
    at = _click_label(label_page.run())
    assert not at.error and "job" in at.query_params
    store = Store(store_dir)
    job = store.jobs()[0]
    deadline = time.time() + 120
    while not store.get_job(job.id).finished and time.time() < deadline:
        time.sleep(0.1)
    done = store.get_job(job.id)
    assert done.status == "done", done.error
    metrics = done.result["metrics"]
    assert metrics["element_size"] == 1 / 128 and metrics["elements"] == 129 * 128


def finished_label_job(store: Store, damage: np.ndarray | None = None, x: np.ndarray | None = None,
                       y: np.ndarray | None = None, *, mode: str = "I", broke: bool = True,
                       fidelity: str = "full") -> str:
    """Id of a finished ``label-fracture`` job as :func:`label_fracture_job` records it, with a given
    damage field (nodes, row 0 at the bottom; x, y in mm) and no solve.

    The curve rises linearly (stiffness 1000 MPa) to 30 MPa at ε = 0.03; a plate that ``broke``
    then loses its load by ε = 0.05 (failure criterion met), one that did not keeps 30 MPa up to
    the largest applied strain (the run ends at ``max_displacement``, as ``fem.fracture`` reports it).
    At fidelity ``"fast"``: one linear solve, a two-point curve and no damage (as ``fem.fracture``).
    """
    x = np.linspace(0.0, 1.0, 17) if x is None else np.asarray(x, float)
    y = np.linspace(0.0, 1.0, 17) if y is None else np.asarray(y, float)
    damage = np.zeros((y.size, x.size)) if damage is None else np.asarray(damage, float)
    strain = np.linspace(0.0, 0.06, 31)
    stress = np.where(strain <= 0.03, 1000.0 * strain, 30.0)
    if broke:
        stress = np.where(strain <= 0.03, stress, np.clip(30.0 * (0.05 - strain) / 0.02, 0.0, None))
    design = Checkerboard.from_array(np.eye(8, dtype=int))
    end = np.flatnonzero(stress < 3.0)[-1] if broke else strain.size - 1
    metrics = {
        "mode": mode, "plane": "stress", "fidelity": "full", "stiffness": 1000.0, "strength": 30.0,
        "strain_at_peak": 0.03, "failure_strain": float(strain[end]),
        "toughness": float(np.sum(0.5 * (stress[1:end + 1] + stress[:end]) * np.diff(strain[:end + 1]))),
        "dissipated_energy": 0.01, "broke": broke, "end_criterion": "failure" if broke else "max_displacement",
        "ell": 1 / 32, "element_size": 1 / 64, "elements": 4096, "dofs": 8450, "steps": 31, "wall_time": 1.5,
    }
    if fidelity == "fast":
        strain, stress = np.array([0.0, 1e-3]), np.array([0.0, 1.0])
        metrics = {"mode": mode, "fidelity": "fast", "stiffness": 1000.0, "strength": None, "toughness": None,
                   "energy_release_rate_per_stress_squared": 1e-3, "stress_intensity_per_stress": 1.0,
                   "element_size": 1 / 64, "elements": 4096, "dofs": 8450, "linear_solves": 1, "wall_time": 0.1}
    job_id = store.create_job("label-fracture", {"space": "checkerboard", "genome": design.genome(),
                                                 "fidelity": fidelity, "options": {"mode": mode}})
    store.start_job(job_id)
    store.finish_job(job_id, "done", result={
        "design_hash": design.content_hash(), "status": "ok",
        "reason": None if broke or fidelity == "fast" else "ended at max_displacement before the end criterion",
        "metrics": metrics, "stored": True, "strain": strain.tolist(), "stress": stress.tolist(),
        "damage": damage.tolist(), "x": x.tolist(), "y": y.tolist(),
    })
    return job_id


def open_label_job(job_id: str) -> AppTest:
    """The label page opened on a job, as by its link ``/label_design?job=<id>``."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["job"] = job_id
    at.run()
    at.switch_page("views/label_design.py").run()
    assert not at.exception
    return at


def figures(at: AppTest) -> dict[str, dict]:
    """The page's plotly figures (as sent to the browser) by title."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return {spec["layout"]["title"]["text"]: spec for spec in specs}


def axis_titles(spec: dict) -> tuple[str, str]:
    return spec["layout"]["xaxis"]["title"]["text"], spec["layout"]["yaxis"]["title"]["text"]


def rgb(colour: str) -> tuple[int, ...]:
    """A CSS colour ``#rrggbb`` or ``rgb(r, g, b)`` as integers."""
    if colour.startswith("#"):
        return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return tuple(int(v) for v in colour[colour.index("(") + 1:-1].split(","))


def test_tension_result_axes_and_metrics_carry_units(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> None:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir), mode="I"))
    shown = figures(at)
    assert axis_titles(shown["stress–strain curve"]) == ("nominal strain ε (dimensionless)",
                                                         "nominal stress σ (MPa)")
    damage = shown["damage d at the end of the run (cyan: initial crack)"]
    assert axis_titles(damage) == ("x (mm)", "y (mm)")  # fem.fracture: the 1 mm × 1 mm plate, nodes in mm
    assert damage["data"][0]["colorbar"]["title"]["text"] == "damage d"
    assert [m.label for m in at.metric] == ["stiffness (MPa)", "strength (MPa)", "toughness (MJ/m³)", "wall time (s)"]
    assert not [w.value for w in at.warning if "did not" in w.value]
    assert not any("≥" in m.value for m in at.metric)


def test_a_shear_run_is_labelled_shear_stress_and_shear_strain(monkeypatch: pytest.MonkeyPatch,
                                                               store_dir: Path) -> None:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir), mode="II"))
    strain_title, stress_title = axis_titles(figures(at)["shear stress–strain curve"])
    assert "shear strain" in strain_title and "shear stress τ (MPa)" in stress_title
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["shear stiffness (MPa)", "shear strength (MPa)"]


def test_a_plate_that_did_not_break_says_so_and_shows_lower_bounds(monkeypatch: pytest.MonkeyPatch,
                                                                   store_dir: Path) -> None:
    """The run ended at the largest applied strain with the stress at its peak: no strength, no toughness."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir), broke=False))
    messages = [w.value for w in at.warning]
    assert any("The plate did not break within the applied strain" in m for m in messages), messages
    values = {m.label: m.value for m in at.metric}
    assert values["strength (MPa)"] == "≥ 30" and values["toughness (MJ/m³)"].startswith("≥ ")


def test_a_fast_label_shows_its_crack_numbers_and_no_damage_map(monkeypatch: pytest.MonkeyPatch,
                                                                store_dir: Path) -> None:
    """One linear solve: G/σ² and |K|/σ are its results; it has no damage field to draw (not all black)."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir), fidelity="fast"))
    assert [m.label for m in at.metric][1:3] == ["G/σ² (mm/MPa)", "|K|/σ (√mm)"]
    assert not [title for title in figures(at) if "damage" in title]
    assert any("computes no damage field" in i.value for i in at.info)


def test_damage_map_colours_are_not_streamlit_theme_placeholders(monkeypatch: pytest.MonkeyPatch,
                                                                 store_dir: Path) -> None:
    """Streamlit's browser code replaces #000001 … #000040 anywhere in a figure (Inferno starts at
    #000004); the figure sent keeps Inferno's ends, #000004 and #fcffa4, in a form it leaves alone."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir)))
    damage = figures(at)["damage d at the end of the run (cyan: initial crack)"]
    data = json.dumps(damage["data"]) + json.dumps({k: v for k, v in damage["layout"].items() if k != "template"})
    assert not re.search(r"#0000(0[1-9]|[1-3][0-9]|40)", data)
    scale = damage["data"][0]["colorscale"]
    assert (scale[0][0], rgb(scale[0][1])) == (0.0, (0x00, 0x00, 0x04))
    assert (scale[-1][0], rgb(scale[-1][1])) == (1.0, (0xFC, 0xFF, 0xA4))
