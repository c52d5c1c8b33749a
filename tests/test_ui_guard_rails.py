"""Guard rails in the app: a plate or voxel cell one step beyond what fits the memory budget is
refused in an error box with its estimate, and no job starts (issue 16, must-show 5).

The budget is made small with the documented ``MATLOOP_MEMORY_BUDGET``; the API and command-line
halves of these checks are in ``tests/test_engine_resources.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from designs.checkerboard import Checkerboard
from engine.evaluators.fracture import FractureEvaluator
from engine.runtime.resources import ENV_MEMORY_BUDGET
from engine.store import Store
from fem.cost import Cost

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
DESIGN = Checkerboard.random(8, soft_fraction=0.5, seed=0)


def _cost(elements_per_block: int) -> Cost:
    return FractureEvaluator.from_options("strength", {"elements_per_block": elements_per_block}).cost(DESIGN)


def _page(monkeypatch: pytest.MonkeyPatch, store_dir: Path, page: str, budget: str) -> AppTest:
    monkeypatch.setenv(ENV_MEMORY_BUDGET, budget)
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_one_step_beyond_the_largest_plate_is_refused_in_an_error_box(monkeypatch: pytest.MonkeyPatch,
                                                                      store_dir: Path) -> None:
    """The largest plate allowed is the 8×8 design at 8 elements per block: its estimate is
    shown; at 9 the button gives an error box with the estimate and what fits, and no job."""
    budget = str(int(0.5 * (_cost(8).memory + _cost(9).memory)))
    at = _page(monkeypatch, store_dir, "views/label_design.py", budget)
    at.selectbox[0].set_value("strength")
    next(w for w in at.radio if w.label == "Mesh").set_value("elements per block").run()
    next(w for w in at.number_input if w.label == "Elements per block side").set_value(8).run()
    assert any(_cost(8).describe() in c.value for c in at.caption)  # the estimate is shown
    next(w for w in at.number_input if w.label == "Elements per block side").set_value(9).run()
    at = next(b for b in at.button if b.label == "Label design").click().run()
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    assert f"too large for this machine: {_cost(9).describe()}" in at.error[0].value
    assert f"{ENV_MEMORY_BUDGET}={budget}" in at.error[0].value and "elements_per_block <= 8 fits" in at.error[0].value
    assert "job" not in at.query_params and Store(store_dir).jobs() == []


def test_a_voxel_resolution_beyond_the_budget_is_refused_in_an_error_box(monkeypatch: pytest.MonkeyPatch,
                                                                         store_dir: Path) -> None:
    at = _page(monkeypatch, store_dir, "views/spinodoid.py", "1GB")  # 32³ fits, 48³ (1.15 GB) does not
    at.selectbox[0].set_value(48).run()
    at = next(b for b in at.button if b.label == "Compute stiffness").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "too large for this machine: a 48³ voxel cell" in at.error[0].value
    assert "job" not in at.query_params and Store(store_dir).jobs() == []
