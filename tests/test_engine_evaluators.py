"""Evaluators: one key per physics, a metric table that covers what solvers report, one status split."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from designs.spinodal import Spinodoid
from engine.cli import main
from engine.evaluators.fracture import FractureEvaluator, fracture_key, label_fracture_batch
from engine.evaluators.protocol import Evaluation, evaluation_from_output
from engine.evaluators.spinodoid import HomogenizationEvaluator, homogenize_key
from engine.store import Store
from fem import fracture, homogenize
from fem.materials import default_palette
from support_tasks import VectorDesign

#: The options ``matloop label`` passes when nothing is chosen.
CLI_DEFAULTS = {"mode": "I", "plane": "stress"}


@pytest.mark.parametrize(
    "options",
    [{}, CLI_DEFAULTS, {"element_size": 1 / 64}, {"ell": 0.03125}, {"ell": 1 / 32, "element_size": 0.015625},
     {"split": "none"}, {"crack_length": 0.2, "max_nonconverged": 20.0}, {"stagger_tol": 0.003, "du_max_strain": 0.01},
     {"materials": default_palette(1 / 32)}],
)
def test_the_same_physics_has_one_key_however_it_is_spelled(options: dict) -> None:
    assert fracture_key("full", options) == fracture_key("full", {}) == FractureEvaluator("full").key()


@pytest.mark.parametrize("options", [{"mode": "II"}, {"plane": "strain"}, {"element_size": 1 / 128},
                                     {"elements_per_block": 8}, {"ell": 1 / 64}, {"split": "spectral"},
                                     {"end_fraction": 0.05}])
def test_other_physics_has_another_key(options: dict) -> None:
    assert fracture_key("full", options) != fracture_key("full", {})
    assert fracture_key("fast", {}) != fracture_key("full", {})


def test_the_key_spells_out_every_setting_and_the_materials() -> None:
    settings = FractureEvaluator("full").settings
    # every field but the unused way of setting the mesh, defaults resolved
    assert set(settings) == set(fracture.PlateSetup.__dataclass_fields__) - {"elements_per_block"}
    assert (settings["ell"], settings["element_size"], settings["split"]) == (1 / 32, 1 / 64, "none")
    assert FractureEvaluator.from_options("full", {"mode": "II"}).settings["split"] == "spectral"
    per_block = FractureEvaluator.from_options("full", {"elements_per_block": 8}).settings
    assert per_block["elements_per_block"] == 8 and "element_size" not in per_block
    # the default palette: 100 / 1000 MPa, both failing at 40 MPa in uniaxial tension
    assert {name: m["E"] * m["failure_strain"] for name, m in settings["materials"].items()} == pytest.approx(
        {"soft": 40.0, "stiff": 40.0})
    # the linear (fast) solve sees only geometry, loading (grips included) and the elastic constants
    fast = FractureEvaluator("fast").settings
    assert set(fast) == {"crack_length", "mode", "plane", "element_size", "grips", "materials"}
    assert fast["materials"] == {"soft": {"E": 100.0, "nu": 0.33}, "stiff": {"E": 1000.0, "nu": 0.33}}
    # a compressive strength is part of the phase (a phase-field setting, not an elastic one), where a split
    # lets it act: not in mode I's default (no split), so mode-I full labels keep their keys
    from dataclasses import replace

    palette = default_palette(1 / 32)
    crushing = {**palette, "stiff": replace(palette["stiff"], compressive_strength=250.0)}
    keys = {(fidelity, mode): [FractureEvaluator.from_options(fidelity, {"materials": m, "mode": mode}).key()
                               for m in (palette, crushing)]
            for fidelity in ("fast", "full") for mode in ("I", "II")}
    assert keys["fast", "I"][0] == keys["fast", "I"][1] and keys["fast", "II"][0] == keys["fast", "II"][1]
    assert keys["full", "I"][0] == keys["full", "I"][1] and keys["full", "II"][0] != keys["full", "II"][1]
    shear = FractureEvaluator.from_options("full", {"mode": "II"}).settings["materials"]
    assert {name: m["compressive_strength"] for name, m in shear.items()} == {"soft": 400.0, "stiff": 400.0}
    assert "compressive_strength" not in settings["materials"]["stiff"]


@pytest.mark.parametrize(
    ("fidelity", "options"),
    [("fast", {"end_fraction": 0.3}), ("fast", {"max_strain": 0.2, "du_max_strain": 0.05}),
     ("fast", {"stagger_tol": 1e-2, "stagger_max_iter": 50, "max_nonconverged": 3}),
     ("fast", {"ell": 0.05, "element_size": 1 / 64}), ("fast", {"split": "voldev"}), ("strength", {"end_fraction": 0.3})],
)
def test_settings_a_fidelity_does_not_use_do_not_split_its_labels(fidelity: str, options: dict) -> None:
    assert fracture_key(fidelity, options) == fracture_key(fidelity, {})
    assert fracture_key("full", options) != fracture_key("full", {})


@pytest.mark.parametrize(
    ("options", "message"),
    [({"stagger_max_iter": "300"}, "stagger_max_iter must be an integer >= 1, got '300'"),
     ({"stagger_max_iter": 300.5}, "stagger_max_iter must be an integer >= 1"),
     ({"ell": True}, r"ell must be a finite number in \(0, 1\), got True"),
     ({"element_size": 0.02}, "element_size 0.02 mm does not resolve the phase-field length ell = 0.03125 mm"),
     ({"element_size": 0.01, "elements_per_block": 8}, "give element_size or elements_per_block, not both"),
     ({"split": "Spectral"}, "split must be one of none, spectral, voldev"),
     ({"max_strain": float("inf")}, "max_strain must be a finite number > 0"),
     ({"stagger_tol": -1}, "stagger_tol must be a finite number > 0"),
     ({"crack_length": 1.0}, r"crack_length must be a finite number in \(0, 1\)"),
     ({"mode": "i"}, "mode must be 'I' or 'II'")],
)
def test_values_the_solver_cannot_take_are_refused_before_any_key_is_made(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fracture_key("full", options)


def test_numpy_scalars_give_the_key_of_the_plain_numbers() -> None:
    options = {"ell": np.float64(1 / 32), "element_size": np.float32(1 / 64), "max_strain": np.int64(1)}
    assert fracture_key("full", options) == fracture_key("full", {"max_strain": 1.0})
    assert fracture_key("full", {"elements_per_block": np.int64(8)}) == fracture_key("full", {"elements_per_block": 8})


def test_designs_the_mesh_cannot_carry_are_refused_before_any_solve(tmp_path: Path) -> None:
    store = Store(tmp_path)
    coarse = Checkerboard(((0, 1, 0), (1, 0, 1), (0, 1, 1)))  # 8 elements per 1/3 mm block: h = 1/24 mm > ℓ/2
    with ThreadPoolExecutor(1) as executor, pytest.raises(
            ValueError, match=r"elements_per_block = 8 on a 3×3 grid gives elements of 0.0416667 × 0.0416667 mm"):
        label_fracture_batch(store, [Checkerboard.random(16, seed=0), coarse], "fast", {"elements_per_block": 8}, executor)
    assert store.labels() == []


def test_unknown_options_and_fidelities_name_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"unknown fracture option\(s\) \['mesh'\]; allowed: crack_length, mode"):
        fracture_key("full", {"mesh": 3})
    with pytest.raises(ValueError, match="unknown fidelity 'exact'; allowed: fast, strength, full"):
        fracture_key("exact", {})
    with pytest.raises(ValueError, match="bc must be 'affine' or 'periodic'"):
        homogenize_key(32, "free")
    for resolution in (32.5, None, float("nan"), float("inf"), [20], True, 4, 300):
        with pytest.raises(ValueError, match="resolution must be an integer in 8..256"):
            homogenize_key(resolution, "affine")
    with pytest.raises(ValueError, match="resolution 16 is too coarse for this spinodoid .* use at least 20"):
        HomogenizationEvaluator(16).check_design(Spinodoid(rho=0.5, seed=0))


def test_homogenisation_key_takes_the_solid_from_the_solver() -> None:
    E, nu = homogenize.BASE_MATERIAL
    settings = HomogenizationEvaluator(24, "periodic").settings
    assert (settings["E"], settings["nu"], settings["bc"], settings["resolution"]) == (E, nu, "periodic", 24)
    assert homogenize_key(24.0, "periodic") == homogenize_key(24, "periodic")


def test_evaluators_pickle_with_their_key() -> None:
    for evaluator in (FractureEvaluator.from_options("strength", {"mode": "II"}), HomogenizationEvaluator(16)):
        again = pickle.loads(pickle.dumps(evaluator))
        assert again == evaluator and again.key() == evaluator.key()


def test_status_split() -> None:
    assert evaluation_from_output({"x": 1.0}, 0.5) == Evaluation("ok", None, {"x": 1.0}, 0.5)
    caveat = evaluation_from_output({"reason": "ended at max_displacement before the end criterion"}, 0.1)
    assert (caveat.status, caveat.reason) == ("ok", "ended at max_displacement before the end criterion")
    nan = evaluation_from_output({"x": float("nan"), "C": [[1.0, float("inf")]], "y": 2.0}, 0.1)
    assert (nan.status, nan.reason, nan.metrics) == ("failed", "the solver returned non-finite C, x",
                                                     {"x": None, "C": None, "y": 2.0})
    failed = evaluation_from_output({"status": "failed", "reason": "diverged", "x": 2.0}, 1.0)
    assert (failed.status, failed.reason, failed.metrics) == ("failed", "diverged", {"x": 2.0})
    assert evaluation_from_output({"status": "nan"}, 0.0).reason == "solver reported failure without a reason"
    with pytest.raises(ValueError, match="needs a reason"):
        Evaluation("failed", None)
    for bad in ({"metrics": None}, {"wall_time": -1.0}, {"reason": 3}):
        with pytest.raises(ValueError):
            Evaluation(**{"status": "ok", "reason": None, "metrics": {}, "wall_time": 0.0, **bad})


def test_wrong_design_space_is_refused() -> None:
    with pytest.raises(ValueError, match="phasefield-at2 labels checkerboard, hierarchical designs, not vector"):
        FractureEvaluator("fast")(VectorDesign((1.0,)))


def _numbers(metrics: dict) -> set[str]:
    return {k for k, v in metrics.items() if isinstance(v, (int, float, list)) and not isinstance(v, bool)}


def test_metric_table_names_every_number_a_fracture_label_holds() -> None:
    design = Checkerboard.random(4, seed=3)
    names = {m.name for m in FractureEvaluator.METRICS}
    for fidelity in ("fast", "strength"):
        evaluation = FractureEvaluator.from_options(fidelity, {"ell": 1 / 16})(design)
        assert evaluation.ok, evaluation.reason
        assert _numbers(evaluation.metrics) <= names, _numbers(evaluation.metrics) - names
    toughness = FractureEvaluator("full").metric("toughness")
    assert (toughness.unit, toughness.larger_is_better) == ("MJ/m³", True)
    assert "work of fracture per unit volume" in toughness.description
    assert FractureEvaluator("fast").metric("energy_release_rate_per_stress_squared").unit == "mm/MPa"
    with pytest.raises(ValueError, match="reports no metric 'energy_release_rate'"):
        FractureEvaluator("fast").metric("energy_release_rate")


def test_metric_table_names_every_number_a_homogenisation_label_holds() -> None:
    evaluation = HomogenizationEvaluator(16, "affine")(Spinodoid(rho=0.6, beta=4 * np.pi, seed=1))
    assert evaluation.ok, evaluation.reason
    names = {m.name for m in HomogenizationEvaluator.METRICS}
    assert _numbers(evaluation.metrics) - {"percolates"} <= names, _numbers(evaluation.metrics) - names


def test_a_design_labelled_through_the_api_and_the_cli_is_labelled_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """API with ``{}`` options, then the CLI with its explicit defaults: the second finds every label."""
    store = Store(tmp_path)
    rng = np.random.default_rng(11)
    designs = [Checkerboard.random(8, soft_fraction=0.5, seed=rng) for _ in range(3)]
    with ThreadPoolExecutor(1) as executor:
        report = label_fracture_batch(store, designs, "fast", {}, executor)
    assert report.newly_labelled == 3
    assert main(["--store", str(tmp_path), "--executor", "local:1", "label", "--random", "3", "--seed", "11",
                 "--fidelity", "fast"]) == 0
    assert "0 labelled now (0 failed), 3 already in the store" in capsys.readouterr().out
    assert len(store.labels()) == 3
    assert {label.design_hash for label in store.labels(fracture_key("fast", CLI_DEFAULTS))} == {
        d.content_hash() for d in designs}
