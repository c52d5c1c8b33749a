"""Training grid surrogates from stored labels, against a target with known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from designs.checkerboard import Checkerboard
from engine.cli import main
from engine.evaluators.fracture import fracture_key
from engine.store import Store
from engine.surrogates.registry import load_surrogate
from engine.surrogates.training import grid_dataset, train_grid_surrogate

OPTIONS = {"mode": "I", "plane": "stress"}


def known_truth_store(directory: Path, n: int = 160) -> Store:
    """Labels whose 'toughness' is a known function of the grid: soft blocks near the crack tip."""
    store = Store(directory)
    key = fracture_key("fast", OPTIONS)
    rng = np.random.default_rng(0)
    weights = np.exp(-((np.arange(8)[:, None] - 3.5) ** 2 + (np.arange(8)[None, :] - 1.5) ** 2) / 4.0)
    for _ in range(n):
        design = Checkerboard.random(8, soft_fraction=rng.uniform(0.2, 0.8), seed=rng)
        soft = design.as_array() == 0
        store.put_label(store.add(design), key, {"toughness": float(10 + 5 * (weights * soft).sum())})
    return store


@pytest.mark.slow
def test_cnn_ranks_held_out_designs_of_a_known_target(tmp_path: Path) -> None:
    store = known_truth_store(tmp_path)
    report = train_grid_surrogate(store, fidelity="fast", options=OPTIONS, target="toughness", model="cnn",
                                  max_epochs=80, random_state=0, device="cpu")
    assert report.metrics["n_test"] == 32
    assert report.metrics["spearman_test"] > 0.9
    assert report.metrics["r2_test"] > 0.8
    (model,) = store.models()
    assert model["id"] == report.model_id and model["metrics"]["spearman_test"] == report.metrics["spearman_test"]
    reloaded = load_surrogate(report.path, device="cpu")
    data = grid_dataset(store, fracture_key("fast", OPTIONS), "toughness")
    assert spearmanr(reloaded.predict(data.grids), data.targets).statistic > 0.9


def test_train_command_reports_missing_labels_and_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    known_truth_store(tmp_path, n=20)
    assert main(["--store", str(tmp_path), "train", "--fidelity", "full"]) == 2
    assert main(["--store", str(tmp_path), "train", "--fidelity", "fast", "--test-fraction", "0.95"]) == 2
    assert main(["--store", str(tmp_path), "train", "--fidelity", "fast", "--epochs", "3", "--test-fraction", "0.5"]) == 0
    captured = capsys.readouterr()
    assert "no ok labels with a numeric 'toughness'" in captured.err
    assert "test_fraction must lie in (0, 0.9]" in captured.err
    assert "10 training / 10 held-out designs" in captured.out
    # a misspelt phase is named, not reported as missing labels
    assert main(["--store", str(tmp_path), "train", "--fidelity", "fast", "--phase", "stif:E=10,nu=0.3,Gc=0.01"]) == 2
    assert "phase 'stif' is no block type of the designs (theirs: soft, stiff)" in capsys.readouterr().err
