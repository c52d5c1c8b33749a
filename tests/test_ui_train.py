"""The training form starts from what the store holds: its defaults train on the stored labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from designs.checkerboard import Checkerboard
from engine.evaluators.fracture import fracture_key
from engine.runtime.jobs import JobContext
from engine.store import Store
from engine.surrogates.training import train_grid_job
from support_pages import record_submitted_jobs

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


def put_labels(store: Store, fidelity: str, n: int, options: dict | None = None, seed: int = 0) -> None:
    """``n`` labels of 4×4 plates with the metrics ``fidelity`` computes; stiffness grows with the stiff share
    (a Voigt-like rule, enough for a model to learn a ranking)."""
    rng = np.random.default_rng(seed)
    key = fracture_key(fidelity, options or {})
    for _ in range(n):
        design = Checkerboard.random(4, 4, float(rng.uniform(0.2, 0.8)), rng)
        stiff = design.fraction("stiff")
        metrics = {"stiffness": 100.0 + 900.0 * stiff}
        if fidelity == "fast":
            metrics |= {"energy_release_rate_per_stress_squared": 1e-3 * (2 - stiff), "stress_intensity_per_stress": 1.0}
        else:
            metrics |= {"strength": 10.0 + 20.0 * stiff, "toughness": None if fidelity == "strength" else 1.0 + stiff}
        store.put_label(store.add(design), key, metrics)


@pytest.fixture
def train_page(monkeypatch: pytest.MonkeyPatch, store_dir: Path):  # noqa: ANN201 - a function opening the page
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    record_submitted_jobs(monkeypatch)

    def open_page() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("views/train.py").run()
        assert not at.exception
        return at

    return open_page


def _value(widgets, label: str):  # noqa: ANN001, ANN202
    return next(w for w in widgets if w.label == label).value


def _train(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception
    return at


def test_with_only_fast_labels_the_defaults_train_on_them(train_page, store_dir: Path) -> None:  # noqa: ANN001
    """Fast labels have no toughness: the form starts at stiffness, and the job it submits trains."""
    store = Store(store_dir)
    put_labels(store, "fast", 25)  # 20 to train on and 5 held out at the default share, as training needs
    at = train_page()
    assert _value(at.selectbox, "Labels of fidelity") == "fast"
    assert _value(at.selectbox, "Target") == "stiffness"
    at = _train(at)
    assert not at.error, [e.value for e in at.error]
    job = store.jobs(limit=1)[0]
    assert (job.kind, job.params["fidelity"], job.params["target"]) == ("train-grid", "fast", "stiffness")
    params = {k: v for k, v in job.params.items()}
    params["max_epochs"] = 20  # the defaults' data set and target, trained briefly
    result = train_grid_job(JobContext(store, job.id), **params)
    metrics = result["metrics"]
    assert metrics["target"] == "stiffness" and metrics["n_train"] + metrics["n_test"] == 25


@pytest.mark.parametrize("n_labels, share", [(15, 0.35), (20, 0.25), (25, 0.2), (60, 0.2)])
def test_the_default_held_out_share_leaves_five_held_out(train_page, store_dir: Path, n_labels: int,
                                                         share: float) -> None:  # noqa: ANN001
    """Training needs 5 held-out designs: with fewer than 25 labels the default share grows to hold 5
    (20 labels at 0.2 held out 4 and the job failed), and the job trains on the defaults."""
    store = Store(store_dir)
    put_labels(store, "fast", n_labels)
    at = train_page()
    assert _value(at.number_input, "Held-out share") == pytest.approx(share)
    at = _train(at)
    job = store.jobs(limit=1)[0]
    params = dict(job.params, max_epochs=5)
    metrics = train_grid_job(JobContext(store, job.id), **params)["metrics"]
    assert metrics["n_test"] >= 5 and metrics["n_train"] + metrics["n_test"] == n_labels


def test_the_defaults_follow_the_most_common_labels(train_page, store_dir: Path) -> None:  # noqa: ANN001
    store = Store(store_dir)
    put_labels(store, "fast", 3)
    put_labels(store, "strength", 15, {"mode": "II"}, seed=1)  # 15: the fewest a split takes (10 + 5 held out)
    at = train_page()
    assert _value(at.selectbox, "Labels of fidelity") == "strength"
    assert _value(at.selectbox, "Target") == "strength"
    assert _value(at.radio, "Loading") == "II"
    at = _train(at)
    job = store.jobs(limit=1)[0]
    assert job.params["options"]["mode"] == "II" and job.params["target"] == "strength"


def test_a_target_the_labels_do_not_have_is_refused(train_page, store_dir: Path) -> None:  # noqa: ANN001
    store = Store(store_dir)
    put_labels(store, "fast", 20)
    at = train_page()
    next(w for w in at.selectbox if w.label == "Target").set_value("toughness")
    at = _train(at)
    assert len(at.error) == 1
    assert "no ok fast labels with a toughness (MJ/m³)" in at.error[0].value
    assert "fast labels have no toughness (the fast fidelity computes stiffness (MPa)" in at.error[0].value
    assert store.jobs() == [] and "job" not in at.query_params


def test_a_set_up_without_labels_is_refused_with_what_the_store_holds(train_page, store_dir: Path) -> None:  # noqa: ANN001
    store = Store(store_dir)
    put_labels(store, "fast", 20)
    at = train_page()
    next(w for w in at.radio if w.label == "Loading").set_value("II")
    at = _train(at)
    assert len(at.error) == 1 and "no ok fast labels with a stiffness (MPa)" in at.error[0].value
    assert "20 fast" in at.error[0].value
    assert store.jobs() == []


def test_labels_of_other_phases_train_under_their_set_up(train_page, store_dir: Path) -> None:  # noqa: ANN001
    """Labels made with a softer soft phase (``matloop label --phase soft:E=50``) are found when the
    phases are set as they were labelled, and not under the default phases."""
    from fem.materials import DEFAULT_PHASE_SETTINGS

    phases = {**DEFAULT_PHASE_SETTINGS, "soft": {**DEFAULT_PHASE_SETTINGS["soft"], "E": 50.0}}
    store = Store(store_dir)
    put_labels(store, "fast", 25, {"materials": phases})  # 25: 5 held out at the share 0.2 offered
    at = _train(train_page())
    assert len(at.error) == 1 and "no ok fast labels with a stiffness (MPa) under this solver set-up" in at.error[0].value
    next(w for w in at.number_input if w.label == "soft: E (MPa)").set_value(50.0)
    at = _train(at)
    assert not at.error, [e.value for e in at.error]
    job = store.jobs(limit=1)[0]
    assert job.kind == "train-grid" and job.params["options"]["materials"] == phases
