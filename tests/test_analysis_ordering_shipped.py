"""The shipped bond-order models: plain JSON, no unpickling, equal to a fresh training by the recipe.

Regenerate the file with ``python -m engine.analysis.ordering.shipped_models`` (seed 0).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.ordering import lattice
from engine.analysis.ordering.features import bond_order_features
from engine.analysis.ordering.shipped_models import (
    SHIPPED_MODELS, load_shipped_models, models_to_dict, save_models, train_shipped_models,
)
from engine.analysis.ordering.supervised import synthetic_training_set


@pytest.fixture(scope="module")
def fresh():
    return train_shipped_models(0)


@pytest.fixture(scope="module")
def unseen() -> tuple[np.ndarray, np.ndarray]:
    return synthetic_training_set([0.05, 0.1], cells=4, liquid_particles=300, seed=777)


def test_shipped_file_is_small_json_and_loads_without_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SHIPPED_MODELS.stat().st_size < 200_000
    data = json.loads(SHIPPED_MODELS.read_text())
    assert data["provenance"]["regenerate"] == "python -m engine.analysis.ordering.shipped_models"
    assert data["provenance"]["seed"] == 0

    def refuse(*args, **kwargs):
        raise AssertionError("the model file must not be unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    mlp, baseline = load_shipped_models()
    assert list(mlp.classes_) == ["bcc", "fcc", "hcp", "liquid"]
    # by median q6 over SANN neighbours (12 in fcc and hcp, 14 in bcc)
    assert list(baseline.classes_) == ["liquid", "hcp", "bcc", "fcc"]


def test_shipped_models_equal_a_fresh_training_with_the_same_seed(fresh, unseen) -> None:
    shipped_mlp, shipped_baseline = load_shipped_models()
    mlp, baseline = fresh
    X, _ = unseen
    np.testing.assert_array_equal(shipped_mlp.predict(X), mlp.predict(X))
    np.testing.assert_allclose(shipped_mlp.predict_proba(X), mlp.predict_proba(X), atol=1e-9)
    np.testing.assert_array_equal(shipped_baseline.predict(X), baseline.predict(X))
    for saved, trained in zip(shipped_mlp.mlp_.coefs_, mlp.mlp_.coefs_):
        np.testing.assert_allclose(saved, trained, rtol=1e-7, atol=1e-10)


def test_shipped_mlp_is_accurate_on_unseen_configurations(unseen) -> None:
    mlp, baseline = load_shipped_models()
    X, y = unseen
    predicted = mlp.predict(X)
    accuracy = {c: float(np.mean(predicted[y == c] == c)) for c in ("fcc", "bcc", "hcp", "liquid")}
    print(f"\nshipped MLP on Lindemann 0.05 and 0.10: {accuracy}")
    assert min(accuracy.values()) >= 0.9
    assert np.mean(predicted == y) > np.mean(baseline.predict(X) == y)


def test_save_and_load_round_trip_exactly(fresh, tmp_path: Path) -> None:
    mlp, baseline = fresh
    path = save_models(tmp_path / "m.json", mlp, baseline)
    again, _ = load_shipped_models(path)
    X = bond_order_features(lattice("sc", 4, lindemann=0.05, seed=1))
    np.testing.assert_allclose(again.predict_proba(X), mlp.predict_proba(X), atol=1e-12)
    np.testing.assert_array_equal(again.predict(X), mlp.predict(X))  # includes "other"
    assert (again.predict(X) == "other").mean() > 0.9


@pytest.mark.parametrize(("text", "message"), [
    (None, "cannot read the model file"),
    ("{not json", "not a JSON model file"),
    ('{"format": "sklearn-pickle"}', "not a matloop bond-order model file"),
    ("TRUNCATE", "entry 'thresholds'"),
])
def test_bad_model_files_are_value_errors(fresh, tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "bad.json"
    if text == "TRUNCATE":
        data = models_to_dict(*fresh)
        data["mlp"]["thresholds"] = data["mlp"]["thresholds"][:2]
        text = json.dumps(data)
    if text is not None:
        path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_shipped_models(path)
