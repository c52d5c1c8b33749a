"""Every number input of every page refuses a value outside its range, visibly, and nothing runs.

Streamlit 1.67 does not refuse such a value by itself, it replaces it: the browser marks the box and
does not send the number (the script keeps the previous value), and a number that reaches the server
is reset to the widget's default (``NumberInputSerde.deserialize``; ``AppTest`` shows the same, and
``tests/test_ui_browser_number_ranges.py`` the browser side). The pages therefore use
:class:`ui.common.CheckedNumbers`: no bounds in the widget, the range checked by the page.

For each input of :data:`FIELDS`, a value below and one above its range are typed; the page must show
an error box that names the input and the value typed, and the action that input feeds must not run:
its button is disabled, or (forms) pressing it records no job, campaign or download. The job pool's
``submit`` is replaced by one that only records the job, so that :func:`test_in_range_values_run_as_typed`
(the control: the same action with in-range values that are not the defaults) costs no solve.
:func:`test_every_number_input_is_registered` fails when a page gains a number input (or a slider,
or a text input) that is not listed here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from designs.checkerboard import Checkerboard
from engine.campaigns.campaign import Campaign
from engine.evaluators.fracture import fracture_key
from engine.evaluators.protocol import Evaluation
from engine.search.registry import STRATEGIES, strategy_class
from engine.store import Store
from support_pages import record_submitted_jobs

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
SEED_MAX = 2**31 - 1


@dataclass(frozen=True)
class Field:
    """A number input: its page, the page state that shows it, two values outside its range, and
    the button it feeds (None: the page draws nothing from it, e.g. its downloads)."""

    page: str
    label: str
    below: float
    above: float
    action: str | None
    state: str = "default"


def _select(at: AppTest, label: str, value: object) -> None:
    next(w for w in [*at.selectbox, *at.radio] if w.label == label).set_value(value).run()


#: Page states that show more inputs (a radio, a method, an uploaded file's settings).
STATES: dict[tuple[str, str], Callable[[AppTest], None]] = {
    ("label_design", "hierarchical"): lambda at: _select(at, "Design space", "hierarchical"),
    ("label_design", "per block"): lambda at: _select(at, "Mesh", "elements per block"),
    ("spinodoid", "periodic"): lambda at: next(c for c in at.checkbox if c.label.startswith("Exactly periodic"))
    .check().run(),
    ("ordering", "liquid"): lambda at: _select(at, "Configuration", "liquid"),
    ("ordering", "autoencoder"): lambda at: _select(at, "Method", "autoencoder"),
    ("softness", "upload"): lambda at: _select(at, "Configuration", "Upload a file"),
    ("softness", "training files"): lambda at: _select(at, "Training data", "Upload files"),
    ("holograms", "upload"): lambda at: _select(at, "Source", "Upload an image"),
    ("campaigns", "spinodoid"): lambda at: at.sidebar.selectbox(key="space").set_value("spinodoid").run(),
    ("campaigns", "hierarchical"): lambda at: at.sidebar.selectbox(key="space").set_value("hierarchical").run(),
    ("campaigns", "genetic"): lambda at: at.sidebar.selectbox(key="strategy").set_value("genetic").run(),
    ("label_batch", "hierarchical"): lambda at: _select(at, "Design space", "hierarchical"),
    ("label_batch", "per block"): lambda at: _select(at, "Mesh", "elements per block"),
    ("rank", "with model"): lambda at: _with_model(at),
}

def _with_model(at: AppTest) -> None:
    """Register a tiny 4×4 model in the page's store (the Rank designs page shows its inputs then)."""
    import os

    from engine.surrogates.grid import GridLinearRegressor

    store = Store(os.environ["MATLOOP_STORE"])
    grids = np.random.default_rng(0).integers(0, 2, (20, 4, 4))
    model = GridLinearRegressor(max_epochs=2, random_state=0).fit(grids, grids.mean(axis=(1, 2)))
    key = fracture_key("fast", {})
    store.register_model("linear regression stiffness", "GridLinearRegressor", model.save(store.path.parent / "m.pt"),
                         {"target": "stiffness", "task": "regression", "fidelity": "fast", "solver_key": {
                             "name": key.name, "version": key.version, "fidelity": key.fidelity,
                             "config_hash": key.config_hash, "settings": dict(key.config)}})
    at.run()


def setup_fields(page: str, action: str, in_form: bool = False) -> list[Field]:
    """The fracture solver set-up's inputs of a page (``ui.fracture_setup``): ℓ, the mesh, grip strips, the phases."""
    per_block = (Field(page, "or elements per block side", 0, 257, action) if in_form
                 else Field(page, "Elements per block side", 0, 257, action, "per block"))
    return [Field(page, "Phase-field length ℓ (mm)", 0.0, 0.07, action),
            Field(page, "Element size (mm)", 0.0, 0.6, action), per_block,
            Field(page, "Grip strips (ℓ)", -0.5, 101.0, action), *(field for phase in ("soft", "stiff") for field in (
                Field(page, f"{phase}: E (MPa)", 0.0, 1.1e7, action),
                Field(page, f"{phase}: ν", -1.0, 0.5, action),
                Field(page, f"{phase}: failure strain ε_f", 0.0, 11.0, action),
                Field(page, f"{phase}: crushing (MPa)", -1.0, 1.1e7, action)))]


FIELDS: list[Field] = [
    Field("label_design", "Rows", 1, 33, "Label design"),
    Field("label_design", "Columns", 1, 33, "Label design"),
    Field("label_design", "Seed", -1, SEED_MAX + 1, "Randomise"),
    Field("label_design", "Rows", 0, 33, "Label design", "hierarchical"),
    Field("label_design", "Columns", 0, 33, "Label design", "hierarchical"),
    Field("label_design", "Block edge (mm)", 0.4, 51.0, None),
    Field("label_design", "Thickness (mm)", 0.1, 51.0, None),
    *setup_fields("label_design", "Label design"),
    Field("spinodoid", "Seed", -1, SEED_MAX + 1, "Compute stiffness"),
    Field("spinodoid", "Cell edge (mm)", 0.005, 1001.0, "Prepare STL"),
    Field("spinodoid", "Cells per axis", 0, 2, "Prepare STL"),
    Field("spinodoid", "Cells per axis", 0, 5, "Prepare STL", "periodic"),
    Field("train", "Most epochs", 0, 5001, "Train"),
    Field("train", "Held-out share", 0.04, 0.95, "Train"),
    Field("train", "Seed", -1, SEED_MAX + 1, "Train"),
    *setup_fields("train", "Train", in_form=True),
    Field("campaigns", "Rows", 1, 65, "Start campaign"),
    Field("campaigns", "Columns", 1, 65, "Start campaign"),
    Field("campaigns", "Budget", 0, 100_001, "Start campaign"),
    Field("campaigns", "Batch", 0, 10_001, "Start campaign"),
    Field("campaigns", "Seed", -1, SEED_MAX + 1, "Start campaign"),
    Field("campaigns", "Pre-train on fast labels", -1, 20_001, "Start campaign", "genetic"),
    Field("campaigns", "Geometry seed", -1, SEED_MAX + 1, "Start campaign", "spinodoid"),
    Field("campaigns", "Fine cells per block side", 1, 33, "Start campaign", "hierarchical"),
    *setup_fields("campaigns", "Start campaign", in_form=True),
    Field("campaigns", "Best designs to export", 0, 1001, None, "with results"),
    Field("ordering", "Unit cells per axis", 0, 21, "Classify"),
    Field("ordering", "Seed", -1, SEED_MAX + 1, "Classify"),
    Field("ordering", "Particles", 19, 50_001, "Classify", "liquid"),
    Field("ordering", "Neighbours", 3, 41, "Classify", "autoencoder"),
    Field("ordering", "Method seed", -1, SEED_MAX + 1, "Classify", "autoencoder"),
    Field("ordering", "Training epochs", 4, 1001, "Classify", "autoencoder"),
    Field("softness", "Half window w (frames)", 0, 501, "Compute softness"),
    Field("softness", "p_c (σ²)", 0.0, 101.0, "Compute softness"),
    Field("softness", "Stable below (σ²)", 0.0, 101.0, "Train model"),
    Field("softness", "Stable window (frames)", -1, 5001, "Compute softness"),
    Field("softness", "Frames described", 0, 101, "Train model"),
    Field("softness", "SVM regularisation C", 0.0, 101.0, "Train model"),
    Field("softness", "Box length of an .npz file (σ_AA)", 0.0, 10_001.0, "Compute softness", "upload"),
    Field("softness", "Box length of .npz training files (σ)", -1.0, 10_001.0, "Train model", "training files"),
    Field("demo_job", "Matrices", 0, 10_001, "Start demo job"),
    Field("demo_job", "Matrix order n", 1, 5_001, "Start demo job"),
    Field("demo_job", "Seed", -1, SEED_MAX + 1, "Start demo job"),
    Field("jobs", "Show the most recent", 4, 1001, None),
    Field("label_batch", "Designs", 0, 10_001, "Label designs"),
    Field("label_batch", "Blocks per side", 1, 33, "Label designs"),
    Field("label_batch", "Soft fraction", -0.1, 1.1, "Label designs"),
    Field("label_batch", "Seed", -1, SEED_MAX + 1, "Label designs"),
    Field("label_batch", "Building blocks per side", 0, 17, "Label designs", "hierarchical"),
    *setup_fields("label_batch", "Label designs"),
    Field("rank", "Candidates", 0, 100_001, "Rank candidates", "with model"),
    Field("rank", "Top k", 0, 25, "Rank candidates", "with model"),
    Field("rank", "Soft fraction", -0.1, 1.1, "Rank candidates", "with model"),
    Field("rank", "Seed", -1, SEED_MAX + 1, "Rank candidates", "with model"),
    Field("library", "Block edge (mm)", 0.4, 51.0, "Prepare plates"),
    Field("library", "Thickness (mm)", 0.1, 51.0, "Prepare plates"),
    Field("holograms", "Rows (px)", 63, 1025, "Characterise"),
    Field("holograms", "Columns (px)", 63, 1281, "Characterise"),
    Field("holograms", "Fewest particles", -1, 11, "Characterise"),
    Field("holograms", "Most particles", -1, 11, "Characterise"),
    Field("holograms", "Noise (%)", -0.5, 50.5, "Characterise"),
    Field("holograms", "Least separation (px)", -10.0, 1010.0, "Characterise"),
    Field("holograms", "Seed", -1, SEED_MAX + 1, "Characterise"),
    Field("holograms", "Wavelength λ (µm)", -0.447, 2.1, "Characterise"),
    Field("holograms", "Magnification (µm/px)", 0.0, 1.5, "Characterise"),
    Field("holograms", "Medium index n_m", 0.9, 2.1, "Characterise"),
    Field("holograms", "Most particles characterised", 0, 201, "Characterise"),
    Field("holograms", "Largest crop (px)", 100, 802, "Characterise"),
    Field("holograms", "Wavelength λ (µm)", 0.0, 2.1, "Characterise", "upload"),
    Field("tracks", "Example seed", -1, SEED_MAX + 1, "Cluster tracks"),
    Field("tracks", "Pixel size (µm/px)", 0.0, 101.0, "Cluster tracks"),
    Field("tracks", "Frame interval (s)", 0.0, 3601.0, "Cluster tracks"),
    Field("tracks", "Most clusters", 1, 13, "Cluster tracks"),
    Field("tracks", "Shortest track clustered (positions)", 4, 10_001, "Cluster tracks"),
]
#: Sliders: the browser cannot move one outside its range (drag and arrow keys stop at the ends),
#: so a slider never holds a value it does not show.
SLIDERS = {
    "label_design": {"Soft fraction"},
    "spinodoid": {"Solid fraction ρ", "θx (°)", "θy (°)", "θz (°)"},
    "campaigns": {"Solid fraction ρ range", "Soft fraction range"},
    "ordering": {"Lindemann ratio", "Crystal share of the box height"},
    "softness": {"Training configurations"},
    "holograms": {"Radius a_p (µm)", "Index n_p", "Depth z_p (µm)"},
}
#: Text inputs: names, a species, and the campaign's target stiffness (nine numbers, parsed and
#: checked on Start: tests/test_ui_campaigns.py), and JSON strategy settings (checked on Start).
TEXT_INPUTS = {"campaigns": {"Name", "Target C11 C12 C13 C22 C23 C33 C44 C55 C66"}, "softness": {"Species", "Name"}}
#: Pages with no number input.
PAGES = ("label_design", "spinodoid", "train", "campaigns", "ordering", "softness", "demo_job", "jobs", "home",
         "label_batch", "rank", "library", "tracks", "holograms")


@pytest.fixture
def app_store(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Path:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    record_submitted_jobs(monkeypatch)
    store = Store(store_dir)
    # one job, so that the Jobs page has a table to show; fast labels, so that Train has data
    store.finish_job(store.create_job("demo", {"steps": 1, "size": 2, "seed": 0}), "done",
                     result={"mean_ratio": 1.0, "ratios": [1.0]})
    put_fast_labels(store, 20, seed=0)
    return store_dir


def put_fast_labels(store: Store, n: int, seed: int) -> None:
    """``n`` fast labels of random 4×4 plates, written directly (no solve)."""
    key = fracture_key("fast", {})
    rng = np.random.default_rng(seed)
    for _ in range(n):
        design = Checkerboard.random(4, 4, 0.5, rng)
        store.put_label(store.add(design), key, {"stiffness": 100 + 900 * design.fraction("stiff"),
                                                 "energy_release_rate_per_stress_squared": 1e-3,
                                                 "stress_intensity_per_stress": 1.0})


def with_results(store_dir: Path) -> str:
    """A finished two-design campaign whose labels are written directly (no solve)."""
    store = Store(store_dir)
    campaign = Campaign.create(store, "done", {
        "space": "checkerboard", "strategy": "random", "objective": {"kind": "metric", "metrics": ["stiffness"]},
        "budget": 2, "batch_size": 2, "seed": 0, "space_settings": {"rows": 4, "columns": 4},
        "evaluator": {"kind": "fracture", "fidelity": "fast", "options": {"mode": "I"}}})
    asked = campaign.ask()
    campaign.tell({c.id: Evaluation("ok", None, {"stiffness": 300.0 + c.id, "energy_release_rate_per_stress_squared":
                                                 1e-3, "stress_intensity_per_stress": 1.0}, 0.1) for c in asked})
    return "done"


def open_page(page: str, state: str, store_dir: Path) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if state == "with results":
        at.query_params["campaign"] = with_results(store_dir)
    at.run()
    at.switch_page(f"views/{page}.py").run()
    if (page, state) in STATES:
        STATES[(page, state)](at)
    assert not at.exception, [e.message for e in at.exception]
    return at


def number_input(at: AppTest, label: str):  # noqa: ANN201 - an AppTest NumberInput
    return next(w for w in at.number_input if w.label == label)


def text(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def nothing_ran(at: AppTest, store_dir: Path) -> None:
    store = Store(store_dir)
    assert [job.kind for job in store.jobs(limit=100)] == ["demo"], "a job was submitted"
    assert [c["name"] for c in store.campaigns()] in ([], ["done"]), "a campaign was created"
    assert "job" not in at.query_params


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f"{f.page}-{f.state}-{f.label}")
def test_a_number_out_of_range_is_refused_and_nothing_runs(app_store: Path, field: Field) -> None:
    """Below the range, then above it, on one page session."""
    at = open_page(field.page, field.state, app_store)
    for value in (field.below, field.above):
        box = number_input(at, field.label).set_value(value)
        submit = next((b for b in at.button if b.label == field.action and b.form_id), None)
        if submit is not None and box.form_id:  # a form sends its values when it is submitted
            submit.click()
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        messages = [e.value for e in at.error]
        assert any(m.startswith(f"{field.label} must be ") and f", not {text(value)}" in m for m in messages), messages
        assert number_input(at, field.label).value == value  # the box keeps what was typed
        for button in [b for b in at.button if b.label == field.action]:
            if button.form_id:  # a form's submit cannot be disabled: its values arrive with it
                button.click().run()
                assert not at.exception, [e.message for e in at.exception]
            else:
                assert button.proto.disabled, f"{field.action} is enabled"
        nothing_ran(at, app_store)
        if field.action in (None, "Prepare STL"):  # inputs of files: no file is offered
            assert not at.get("download_button"), [b.label for b in at.get("download_button")]
        if field.page == "jobs":  # no list of another length
            assert not at.dataframe


@pytest.mark.parametrize(("page", "state", "values", "action", "check"), [
    ("demo_job", "default", {"Matrices": 3, "Matrix order n": 17, "Seed": SEED_MAX}, "Start demo job",
     lambda job: job.params == {"steps": 3, "size": 17, "seed": SEED_MAX}),
    ("label_design", "per block", {"Phase-field length ℓ (mm)": 0.0625, "Elements per block side": 16},
     "Label design", lambda job: job.params["options"]["ell"] == 0.0625
     and job.params["options"]["elements_per_block"] == 16),
    ("train", "default", {"Most epochs": 5000, "Held-out share": 0.05, "Seed": 7}, "Train",
     lambda job: (job.params["max_epochs"], job.params["test_fraction"], job.params["random_state"]) == (5000, 0.05, 7)),
    ("holograms", "default", {"Wavelength λ (µm)": 2.0, "Magnification (µm/px)": 0.005, "Medium index n_m": 1.0,
                              "Rows (px)": 64, "Columns (px)": 1280, "Largest crop (px)": 801}, "Characterise",
     lambda job: job.params["instrument"] == {"wavelength": 2.0, "magnification": 0.005, "n_m": 1.0}
     and job.params["source"]["generate"]["shape"] == [64, 1280] and job.params["options"]["max_crop"] == 801),
    ("ordering", "autoencoder", {"Neighbours": 40, "Training epochs": 5, "Unit cells per axis": 2}, "Classify",
     lambda job: job.params["options"]["neighbors"] == 40 and job.params["options"]["epochs"] == 5
     and job.params["source"]["generate"]["cells"] == 2),
])
def test_in_range_values_run_as_typed(app_store: Path, page: str, state: str, values: dict, action: str,
                                      check: Callable) -> None:
    """The control: in-range values at the ends of their ranges reach the job as typed."""
    if page == "train":  # a held-out share of 0.05 needs 91 labels (5 held out, 86 to train on)
        put_fast_labels(Store(app_store), 71, seed=1)
    at = open_page(page, state, app_store)
    for label, value in values.items():
        number_input(at, label).set_value(value)
    button = next(b for b in at.button if b.label == action)
    if not button.form_id:
        at.run()  # a button outside a form: the values first, then the click
        button = next(b for b in at.button if b.label == action)
    button.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    job = Store(app_store).jobs(limit=1)[0]
    assert job.kind != "demo" or page == "demo_job"
    assert check(job), job.params


def test_in_range_print_sizes_give_files(app_store: Path) -> None:
    """The control of the download inputs: files are offered for sizes at the ends of the ranges."""
    at = open_page("label_design", "default", app_store)
    number_input(at, "Block edge (mm)").set_value(0.5)
    number_input(at, "Thickness (mm)").set_value(50.0)
    at.run()
    assert [b.label for b in at.get("download_button")] == ["Download 3MF (one file, soft + stiff bodies)",
                                                            "Download STL bodies (zip)"]


def _widgets(at: AppTest) -> tuple[set[str], set[str], set[str]]:
    strategy_settings = {w.label for w in at.number_input if (w.key or "").startswith("setting-")}
    numbers = {w.label for w in at.number_input} - strategy_settings
    return numbers, {w.label for w in at.slider}, {w.label for w in at.text_input if not (w.key or "").startswith(
        "setting-")}


def test_every_number_input_is_registered(app_store: Path) -> None:
    """A page that gains a number input (slider, text input) not listed above fails here; so does
    an error box at the defaults (every default is inside its range)."""
    states = {(f.page, f.state) for f in FIELDS} | {(page, "default") for page in PAGES}
    states |= {(page, state) for page, state in STATES}
    registered = {(f.page, f.label) for f in FIELDS}
    for page, state in sorted(states):
        at = open_page(page, state, app_store)
        numbers, sliders, texts = _widgets(at)
        assert {(page, label) for label in numbers} <= registered, (page, state, numbers)
        assert sliders <= SLIDERS.get(page, set()), (page, state, sliders)
        assert texts <= TEXT_INPUTS.get(page, set()), (page, state, texts)
        assert not at.error, (page, state, [e.value for e in at.error])
        if page == "campaigns" and state == "default":
            # strategy settings have no range on the form: the strategy checks them on Start
            # (its ValueError is an error box, tests/test_ui_campaigns.py); their inputs are free
            for name in STRATEGIES:
                at.sidebar.selectbox(key="strategy").set_value(name).run()
                try:
                    parameters = set(inspect.signature(strategy_class(name).__init__).parameters)
                except (ImportError, AttributeError, SyntaxError):
                    continue
                free = {w.key.removeprefix(f"setting-{name}-") for w in at.number_input
                        if (w.key or "").startswith(f"setting-{name}-")}
                assert free <= parameters, (name, free)
