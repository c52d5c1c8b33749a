"""The label page refuses solver set-ups that cannot label the design: an error box, no job."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from designs.checkerboard import Checkerboard
from engine.store import Store
from fem.plate_setup import PlateSetup
from support_pages import record_submitted_jobs

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
])  # ℓ outside (0, 1) mm is refused by the form itself: tests/test_ui_number_ranges.py
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
                       fidelity: str = "full", through_crack: bool = False, residual: float = 1.0,
                       crack_path: dict | None = None) -> str:
    """Id of a finished ``label-fracture`` job as :func:`label_fracture_job` records it, with a given
    damage field (nodes, row 0 at the bottom; x, y in mm) and no solve.

    The curve rises linearly (stiffness 1000 MPa) to 30 MPa at ε = 0.03; a plate that ``broke``
    then loses its load by ε = 0.05 (failure criterion met), one that did not keeps 30 MPa up to
    the largest applied strain (the run ends at ``max_displacement``, as ``fem.fracture`` reports it).
    At fidelity ``"fast"``: one linear solve, a two-point curve and no damage (as ``fem.fracture``).
    ``through_crack``: the run ends at ε = 0.04 (stress 15 MPa, half the peak), where the crack
    from the notch reached an edge (mode II's end, ``end_criterion`` "through_crack").
    ``residual``: the share of the peak that a plate that did not break still carries past ε = 0.03.
    ``crack_path``: the job's reading of how the crack ran (:func:`fem.fracture.crack_path_of` as a
    dict), None as for a job recorded before jobs kept one.
    """
    x = np.linspace(0.0, 1.0, 17) if x is None else np.asarray(x, float)
    y = np.linspace(0.0, 1.0, 17) if y is None else np.asarray(y, float)
    damage = np.zeros((y.size, x.size)) if damage is None else np.asarray(damage, float)
    strain = np.linspace(0.0, 0.06, 31)
    stress = np.where(strain <= 0.03, 1000.0 * strain, 30.0 * residual)
    if broke:
        stress = np.where(strain <= 0.03, stress, np.clip(30.0 * (0.05 - strain) / 0.02, 0.0, None))
    design = Checkerboard.from_array(np.eye(8, dtype=int))
    end = np.flatnonzero(stress < 3.0)[-1] if broke else strain.size - 1
    if through_crack:
        end = int(np.argmin(np.abs(strain - 0.04)))
        strain, stress = strain[: end + 1], stress[: end + 1]
    metrics = {
        "mode": mode, "plane": "stress", "fidelity": "full", "stiffness": 1000.0, "strength": 30.0,
        "strain_at_peak": 0.03, "failure_strain": float(strain[end]),
        "toughness": float(np.sum(0.5 * (stress[1:end + 1] + stress[:end]) * np.diff(strain[:end + 1]))),
        "dissipated_energy": 0.01, "broke": broke,
        "end_criterion": "through_crack" if through_crack else "failure" if broke else "max_displacement",
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
        "damage": damage.tolist(), "x": x.tolist(), "y": y.tolist(), "crack_path": crack_path,
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


def test_a_shear_run_that_ended_at_its_through_crack_says_why(monkeypatch: pytest.MonkeyPatch,
                                                              store_dir: Path) -> None:
    """The curve stops at half its peak: the caption says the crack from the notch reached an edge."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir), mode="II", through_crack=True))
    notes = [c.value for c in at.caption if "crack from the notch reached an edge" in c.value]
    assert notes and "shear strain 0.04" in notes[0] and "50 % of its peak" in notes[0], notes
    assert not [w.value for w in at.warning if "did not" in w.value]
    assert not any("≥" in m.value for m in at.metric)


def test_a_plate_that_did_not_break_says_so_and_shows_lower_bounds(monkeypatch: pytest.MonkeyPatch,
                                                                   store_dir: Path) -> None:
    """The run ended at the largest applied strain with the stress at its peak: no strength, no toughness."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir), broke=False))
    messages = [w.value for w in at.warning]
    assert any("The plate did not break within the applied strain" in m for m in messages), messages
    values = {m.label: m.value for m in at.metric}
    assert values["strength (MPa)"] == "≥ 30" and values["toughness (MJ/m³)"].startswith("≥ ")


def test_an_unbroken_shear_plate_names_its_share_and_the_end_fraction_in_full(monkeypatch: pytest.MonkeyPatch,
                                                                            store_dir: Path) -> None:
    """Mode II ends at 0.5 % of the peak: a plate that still carries 0.8 % at the largest strain is
    unbroken, and the warning says both figures as they are (not rounded to 1 % and 0 %)."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    assert PlateSetup(mode="II").end_fraction == 0.005
    at = open_label_job(finished_label_job(Store(store_dir), mode="II", broke=False, residual=0.008))
    messages = [w.value for w in at.warning]
    assert any("stress at 0.8 % of its peak, and breaking means falling below 0.5 %" in m for m in messages), messages


def drawn_damage(*segments, n: int = 64) -> np.ndarray:
    """Damage 1 on the nodes of an n × n element unit plate within half an element of the straight
    segments ((x0, y0), (x1, y1)) (mm), 0 elsewhere; row 0 at the bottom."""
    X, Y = np.meshgrid(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1))
    p = np.stack([X.ravel(), Y.ravel()], axis=1)
    d = np.zeros(p.shape[0])
    for a, b in segments:
        a, b = np.asarray(a, float), np.asarray(b, float)
        t = np.clip((p - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
        d[np.linalg.norm(p - (a + t[:, None] * (b - a)), axis=1) <= 0.5 / n + 1e-12] = 1.0
    return d.reshape(n + 1, n + 1)


@pytest.mark.parametrize(("segments", "warned", "caption"), [
    ((((0.5, 0.5), (1.0, 0.0)),), None, "a band of d > 0.9 runs from the notch tip to an edge of the plate"),
    ((((0.5, 0.5), (0.5, 1 / 64)), ((0.5, 1 / 64), (0.75, 1 / 64))),
     "A crack band (d > 0.9) runs 0.25 mm along the bottom grip, more than 4ℓ (0.125 mm)",
     "a band of d > 0.9 runs from the notch tip to an edge of the plate"),
    ((((0.7, 0.3), (1.0, 0.3)),), None, "no band of d > 0.9 joins the notch tip to an edge. The plate broke along"),
])
def test_a_full_label_says_how_its_crack_ran_and_warns_of_a_band_along_a_grip(
        monkeypatch: pytest.MonkeyPatch, store_dir: Path, segments, warned: str | None, caption: str) -> None:
    """Drawn damage on a mode-II label (tip at (0.5, 0.5) mm, ℓ = 1/32 mm): a diagonal from the tip to the
    bottom-right corner, the same crack turned along the bottom grip for 0.25 mm, a band away from the tip."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    grid = np.linspace(0.0, 1.0, 65)
    at = open_label_job(finished_label_job(Store(store_dir), drawn_damage(*segments), grid, grid, mode="II"))
    grip = [w.value for w in at.warning if "along the" in w.value]
    assert (grip == []) if warned is None else (len(grip) == 1 and warned in grip[0]), grip
    assert [c.value for c in at.caption if caption in c.value], [c.value for c in at.caption]


def test_a_run_that_ended_on_its_through_crack_does_not_say_the_crack_path_twice(monkeypatch: pytest.MonkeyPatch,
                                                                                   store_dir: Path) -> None:
    """The through-crack note already says that the crack from the notch reached an edge."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    grid = np.linspace(0.0, 1.0, 65)
    at = open_label_job(finished_label_job(Store(store_dir), drawn_damage(((0.5, 0.5), (1.0, 0.0))), grid, grid,
                                           mode="II", through_crack=True))
    captions = [c.value for c in at.caption]
    assert [c for c in captions if "crack from the notch reached an edge" in c], captions
    assert not [c for c in captions if c.startswith("Crack path")], captions


def test_the_page_shows_the_jobs_own_reading_of_the_crack_path(monkeypatch: pytest.MonkeyPatch,
                                                                store_dir: Path) -> None:
    """A job reads the crack path on its whole damage grid and keeps a thinned one: the page shows the
    job's reading (a band 0.2 mm along the top grip), not one of the kept grid (here blank)."""
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    recorded = {"level": 0.9, "at_tip": True, "tip_to_edge": True, "grip_edge": "top", "grip_length": 0.2,
                "along_grip": True}
    at = open_label_job(finished_label_job(Store(store_dir), mode="II", crack_path=recorded))
    grip = [w.value for w in at.warning if "along the" in w.value]
    assert len(grip) == 1 and "runs 0.2 mm along the top grip" in grip[0], grip
    assert [c.value for c in at.caption if "runs from the notch tip to an edge" in c.value]


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


# ------------------------------------------------------------------ the block editor keeps what is drawn
def editor_grid(at: AppTest) -> np.ndarray:
    """The grid the editor starts from (block types, row 0 at the bottom), without pending edits."""
    return at.data_editor[0].value.to_numpy().astype(int)[::-1]


def edit(at: AppTest, cells: dict[tuple[int, str], object]) -> AppTest:
    """Type into the editor as a browser does: ``{(table row from the top, column name): value}``."""
    rows: dict[int, dict[str, object]] = {}
    for (row, column), value in cells.items():
        rows.setdefault(row, {})[column] = value
    at.session_state[at.data_editor[0].key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return at.run()


def shown_hash(at: AppTest) -> str:
    """The design hash the Solver column states (the design a job would label)."""
    return next(re.search(r"Design hash `(\w+)`", c.value).group(1) for c in at.caption if "Design hash" in c.value)


def heatmap_z(spec: dict) -> np.ndarray:
    """The z of a figure's first trace as sent (plotly sends arrays as base64 ``bdata``)."""
    z = spec["data"][0]["z"]
    if isinstance(z, dict):
        shape = tuple(int(n) for n in z["shape"].split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape)
    return np.asarray(z)


def hash_of(grid: np.ndarray) -> str:
    return Checkerboard.from_array(grid).content_hash()[:16]


@pytest.mark.parametrize(("typed", "shown"), [("x", "'x'"), (None, "empty"), ("", "empty"), ("1.5", "'1.5'"),
                                               ("2", "'2'"), ("-1", "'-1'"), ("nan", "'nan'")])
def test_what_is_not_a_block_type_is_refused_with_a_message(label_page: AppTest, store_dir: Path,
                                                            typed: object, shown: str) -> None:
    before = editor_grid(label_page)
    at = edit(label_page, {(2, "5"): typed})
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    message = at.error[0].value
    assert f"row 3, column 5: {shown}" in message and "each block is one of 0 = soft, 1 = stiff" in message
    assert not [c for c in at.caption if "Design hash" in c.value]  # no design, so nothing to label or print
    assert not [b for b in at.button if b.label == "Label design"] and not at.get("download_button")
    np.testing.assert_array_equal(editor_grid(at), before)  # the design drawn before is kept
    assert Store(store_dir).jobs() == []


def test_hierarchical_blocks_are_0_to_2_and_names_are_accepted(label_page: AppTest) -> None:
    _widget(label_page.radio, "Design space").set_value("hierarchical").run()
    at = edit(label_page, {(0, "0"): "3"})
    assert "row 1, column 0: '3'" in at.error[0].value
    assert "0 = isotropic, 1 = stiff along x, 2 = stiff along y" in at.error[0].value
    at = edit(at, {(0, "0"): "Stiff along Y"})
    assert not at.error
    at.run()  # the edit was written back: the next run's table starts from it
    assert editor_grid(at)[-1, 0] == 2


def test_a_block_typed_by_name_or_number_is_the_design_labelled(label_page: AppTest) -> None:
    expected = editor_grid(label_page)
    expected[-1, 0], expected[0, 7] = 1 - expected[-1, 0], 1 - expected[0, 7]
    names = ("soft", "stiff")
    at = edit(label_page, {(0, "0"): names[expected[-1, 0]], (7, "7"): f" {expected[0, 7]} "})
    assert not at.error
    assert shown_hash(at) == hash_of(expected)
    np.testing.assert_array_equal(heatmap_z(figures(at)["plate (yellow: soft, blue: stiff; red: crack)"]), expected)


def test_the_first_edit_after_randomise_is_kept(label_page: AppTest) -> None:
    _widget(label_page.number_input, "Seed").set_value(5).run()
    at = _widget(label_page.button, "Randomise").click().run()
    rng = np.random.default_rng(5)
    randomised = Checkerboard.random(8, 8, 0.5, rng).as_array()
    np.testing.assert_array_equal(editor_grid(at), randomised)
    expected = randomised.copy()
    expected[4, 3] = 1 - expected[4, 3]
    at = edit(at, {(3, "3"): str(expected[4, 3])})
    assert shown_hash(at) == hash_of(expected)
    at.run()  # and on every later run
    assert shown_hash(at) == hash_of(expected)


def test_a_drawn_design_survives_navigation_and_a_seed_change(label_page: AppTest) -> None:
    drawn = np.zeros((8, 8), dtype=int)
    drawn[::2, 1::2] = drawn[1::2, ::2] = 1  # a checkerboard by hand
    at = edit(label_page, {(r, str(c)): str(drawn[7 - r, c]) for r in range(8) for c in range(8)})
    assert shown_hash(at) == hash_of(drawn)

    at.switch_page("views/home.py").run()
    at.switch_page("views/label_design.py").run()
    assert not at.exception
    np.testing.assert_array_equal(editor_grid(at), drawn)
    assert shown_hash(at) == hash_of(drawn)

    at = _widget(at.number_input, "Seed").set_value(3).run()
    assert shown_hash(at) == hash_of(drawn)  # a new seed alone changes nothing drawn
    at = _widget(at.button, "Randomise").click().run()
    assert shown_hash(at) == hash_of(Checkerboard.random(8, 8, 0.5, np.random.default_rng(3)).as_array())


def test_each_design_space_keeps_its_own_drawing(label_page: AppTest) -> None:
    drawn = editor_grid(label_page)
    drawn[0, 0] = 1 - drawn[0, 0]
    at = edit(label_page, {(7, "0"): str(drawn[0, 0])})
    _widget(at.radio, "Design space").set_value("hierarchical").run()
    _widget(at.radio, "Design space").set_value("checkerboard").run()
    assert shown_hash(at) == hash_of(drawn)


# ------------------------------------------------------------------ results name their design; stored labels
def test_a_result_shows_the_hash_and_a_drawing_of_its_design(monkeypatch: pytest.MonkeyPatch,
                                                             store_dir: Path) -> None:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    at = open_label_job(finished_label_job(Store(store_dir)))
    design = Checkerboard.from_array(np.eye(8, dtype=int))  # the design finished_label_job labels
    drawing = figures(at)["the labelled design"]
    np.testing.assert_array_equal(heatmap_z(drawing), np.eye(8, dtype=int))
    assert any(f"`{design.content_hash()}`" in c.value for c in at.caption)
    assert not [w.value for w in at.warning if "hash" in w.value]
    # opened from its link, the page's inputs draw another design: the result says it is not that one
    shown = Checkerboard.from_array(editor_grid(at))
    assert shown.content_hash() != design.content_hash()
    assert any(f"; not the design above (`{shown.content_hash()[:16]}`), which **Label design** would label" in c.value
               for c in at.caption)


def test_a_stored_label_is_shown_not_recomputed(monkeypatch: pytest.MonkeyPatch, label_page: AppTest,
                                                store_dir: Path) -> None:
    """A label made elsewhere (command line, batch): its numbers, a note, and no job."""
    from engine.evaluators.fracture import fracture_key
    from fem.fracture import DEFAULT_ELL

    record_submitted_jobs(monkeypatch)
    store = Store(store_dir)
    design = Checkerboard.from_array(editor_grid(label_page))
    key = fracture_key("strength", {"mode": "I", "plane": "stress", "ell": DEFAULT_ELL})  # the page's defaults
    store.put_label(store.add(design), key, {"stiffness": 512.0, "strength": 12.5, "broke": True, "wall_time": 3.0})
    at = _click_label(label_page)
    assert not at.exception and not at.error
    assert Store(store_dir).jobs() == [] and "job" not in at.query_params
    assert any("already labelled under this solver set-up" in i.value for i in at.info)
    values = {m.label: m.value for m in at.metric}
    assert values["stiffness (MPa)"] == "512" and values["strength (MPa)"] == "12.5"
    assert any(f"`{design.content_hash()}`" in c.value for c in at.caption)
    at.run()  # still shown on the next run, as long as the design and set-up stay
    assert {m.label: m.value for m in at.metric}["strength (MPa)"] == "12.5"
    _widget(at.radio, "Loading").set_value("II").run()  # another set-up: not labelled, nothing shown
    assert not at.metric and not any("already labelled" in i.value for i in at.info)


def test_a_stored_full_label_says_how_its_plate_failed(monkeypatch: pytest.MonkeyPatch, label_page: AppTest,
                                                      store_dir: Path) -> None:
    """A full label made elsewhere keeps no damage map, but the reading of its crack path travels with
    its metrics: the page warns of a band along a grip (which grip is not kept) and says the tip's band
    reached an edge."""
    from engine.evaluators.fracture import fracture_key
    from fem.fracture import DEFAULT_ELL

    record_submitted_jobs(monkeypatch)
    store = Store(store_dir)
    design = Checkerboard.from_array(editor_grid(label_page))
    key = fracture_key("full", {"mode": "I", "plane": "stress", "ell": DEFAULT_ELL})
    store.put_label(store.add(design), key, {
        "fidelity": "full", "mode": "I", "ell": DEFAULT_ELL, "stiffness": 512.0, "strength": 12.5, "toughness": 0.4,
        "broke": True, "end_criterion": "failure", "crack_tip_to_edge": True, "grip_band": 0.2, "along_grip": True})
    label_page.selectbox[0].set_value("full").run()
    at = _click_label(label_page)
    assert not at.exception and not at.error and Store(store_dir).jobs() == []
    assert [w.value for w in at.warning] == [
        "A crack band (d > 0.5) runs 0.2 mm along a grip, more than 4ℓ (0.125 mm): the plate failed partly at the "
        "grip, so its strength and toughness describe the grip as well as the plate."]
    assert "Crack path: a band of d > 0.5 runs from the notch tip to an edge of the plate." in [c.value for c in at.caption]


def test_a_label_made_on_this_page_reopens_its_run(monkeypatch: pytest.MonkeyPatch, label_page: AppTest,
                                                   store_dir: Path) -> None:
    """The job that made the label kept its curve and damage map: Label design opens it, runs nothing."""
    from engine.evaluators.fracture import fracture_key

    record_submitted_jobs(monkeypatch)
    store = Store(store_dir)
    job_id = finished_label_job(store, fidelity="fast")  # labels np.eye(8) with options {"mode": "I"}
    design = Checkerboard.from_array(np.eye(8, dtype=int))
    store.put_label(store.add(design), fracture_key("fast", {"mode": "I"}), {"stiffness": 1000.0})
    label_page.selectbox[0].set_value("fast").run()
    eye = np.eye(8, dtype=int)
    at = edit(label_page, {(r, str(c)): str(eye[7 - r, c]) for r in range(8) for c in range(8)})
    at = _click_label(at)
    assert not at.exception and not at.error
    assert [job.id for job in Store(store_dir).jobs()] == [job_id]  # no new job
    assert at.query_params["job"] in (job_id, [job_id])
    assert any("already labelled" in i.value for i in at.info)
    assert "linear elastic response (fast: one linear solve)" in figures(at)


def test_phases_changed_on_the_page_go_to_the_job_and_are_checked(monkeypatch: pytest.MonkeyPatch,
                                                                  label_page: AppTest, store_dir: Path) -> None:
    """A changed E is sent with the rest of the phase, a crushing strength of 0 as a phase that never
    crushes, so the label stored under the default phases is not shown; a ν out of range is refused
    by the form."""
    from engine.evaluators.fracture import FractureEvaluator, fracture_key
    from fem.fracture import DEFAULT_ELL

    record_submitted_jobs(monkeypatch)
    store = Store(store_dir)
    design = Checkerboard.from_array(editor_grid(label_page))
    store.put_label(store.add(design), fracture_key("strength", {"mode": "I", "plane": "stress", "ell": DEFAULT_ELL}),
                    {"stiffness": 512.0, "strength": 12.5, "broke": True, "wall_time": 3.0})
    _widget(label_page.number_input, "soft: E (MPa)").set_value(50.0)
    _widget(label_page.number_input, "stiff: crushing (MPa)").set_value(0.0)
    at = _click_label(label_page.run())
    assert not at.exception and not at.error
    options = store.jobs()[0].params["options"]
    assert options["materials"] == {
        "soft": {"E": 50.0, "nu": 0.33, "failure_strain": 0.4, "compressive_strength": 400.0},
        "stiff": {"E": 1000.0, "nu": 0.33, "failure_strain": 0.04, "compressive_strength": None}}
    assert FractureEvaluator.from_options("strength", options).setup.materials["soft"].E == 50.0
    store.put_label(store.add(design), FractureEvaluator.from_options("strength", options).key(),
                    {"stiffness": 300.0, "strength": 11.0, "broke": True, "wall_time": 3.0})
    at = _click_label(at)  # labelled elsewhere under these phases: shown, with them named
    assert {m.label: m.value for m in at.metric}["strength (MPa)"] == "11"
    assert ("Phases: soft E = 50 MPa, ν = 0.33, ε_f = 0.4, crushing at 400 MPa; stiff E = 1000 MPa, ν = 0.33, "
            "ε_f = 0.04, never crushes.") in [c.value for c in at.caption]
    _widget(at.number_input, "soft: ν").set_value(0.5)  # outside (-1, 0.5): the form says so, no job
    at = at.run()
    assert any("soft: ν" in e.value and "0.5" in e.value for e in at.error), [e.value for e in at.error]
    assert _widget(at.button, "Label design").disabled and len(store.jobs()) == 1
