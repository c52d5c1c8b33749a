"""Ranking random candidate plates with a surrogate: against a plain sort of ``model.predict``.

The reference is written here without the ranking code: all candidates scored at once with the
model's own ``predict``, sorted, duplicates dropped by a Python set. The candidate draw is
checked against its defining distribution (exact soft count, uniform position of soft blocks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from engine.store import Store
from engine.surrogates.ensemble import SurrogateEnsemble
from engine.surrogates.grid import GridCNNClassifier, GridLinearRegressor
from engine.surrogates.ranking import (
    CHUNK,
    load_registered_model,
    model_options,
    model_summary,
    random_plate_grids,
    rank_random_plates,
    target_direction,
)


def training_data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """4×4 grids and a stiffness that grows with the stiff blocks of the left half (a pattern to learn)."""
    rng = np.random.default_rng(seed)
    grids = rng.integers(0, 2, (n, 4, 4))
    return grids, 100.0 + 50.0 * grids[:, :, :2].sum(axis=(1, 2)) + 10.0 * grids.sum(axis=(1, 2))


@pytest.fixture(scope="module")
def model() -> GridLinearRegressor:
    return GridLinearRegressor(max_epochs=5, random_state=0).fit(*training_data())


def reference_top(scores: np.ndarray, grids: np.ndarray, k: int, larger: bool) -> list[int]:
    """Indices of the best ``k`` distinct grids: a stable sort, then the first copy of each design."""
    order = np.argsort(-scores if larger else scores, kind="stable")
    seen, top = set(), []
    for index in order:
        design = grids[index].tobytes()
        if design not in seen:
            seen.add(design)
            top.append(int(index))
        if len(top) == k:
            break
    return top


@pytest.mark.parametrize("larger", [True, False])
def test_the_ranking_is_the_sort_of_model_predict(model: GridLinearRegressor, larger: bool) -> None:
    grids = random_plate_grids(3000, 4, 4, 0.5, seed=7)
    scores = model.predict(grids)
    ranking = rank_random_plates(model, 3000, 10, larger, 0.5, seed=7)
    assert ranking.indices.tolist() == reference_top(scores, grids, 10, larger)
    np.testing.assert_array_equal(ranking.scores, scores[ranking.indices])
    np.testing.assert_array_equal(ranking.grids, grids[ranking.indices])
    # the k largest (smallest) distinct designs: nothing left out scores better than the last kept
    rest = np.setdiff1d(np.arange(3000), ranking.indices)
    outside = [i for i in rest if grids[i].tobytes() not in {g.tobytes() for g in ranking.grids}]
    if larger:
        assert scores[outside].max() <= ranking.scores[-1] and np.all(np.diff(ranking.scores) <= 0)
    else:
        assert scores[outside].min() >= ranking.scores[-1] and np.all(np.diff(ranking.scores) >= 0)
    assert ranking.spread is None and ranking.n_candidates == 3000
    assert [d.as_array().tolist() for d in ranking.designs()] == ranking.grids.tolist()
    assert all(isinstance(d, Checkerboard) for d in ranking.designs())


def test_ranking_across_chunks_matches_one_sort(model: GridLinearRegressor) -> None:
    n = 2 * CHUNK + 100
    grids = random_plate_grids(n, 4, 4, 0.5, seed=1)
    scores = model.predict(grids)
    ranking = rank_random_plates(model, n, 5, True, 0.5, seed=1)
    expected = reference_top(scores, grids, 5, True)
    np.testing.assert_allclose(ranking.scores, scores[expected], rtol=1e-6)
    assert len({g.tobytes() for g in ranking.grids}) == 5


def test_the_direction_comes_from_the_metric_table() -> None:
    assert target_direction("toughness") and target_direction("strength") and target_direction("stiffness")
    assert not target_direction("energy_release_rate_per_stress_squared")
    with pytest.raises(ValueError, match="not an objective"):
        target_direction("elements")
    with pytest.raises(ValueError, match="unknown fracture metric"):
        target_direction("beauty")


def test_candidates_are_seeded_and_drawn_uniformly_with_the_exact_soft_count() -> None:
    a = random_plate_grids(20_000, 4, 4, 0.25, seed=3)
    np.testing.assert_array_equal(a, random_plate_grids(20_000, 4, 4, 0.25, seed=3))
    assert not np.array_equal(a, random_plate_grids(20_000, 4, 4, 0.25, seed=4))
    assert a.shape == (20_000, 4, 4) and np.all((a == 0).sum(axis=(1, 2)) == 4)
    # uniform subsets: each cell soft with probability 4/16, binomial standard error 0.003
    np.testing.assert_allclose((a == 0).mean(axis=0), 0.25, atol=0.015)
    # a prefix of the stream is the same whatever n
    np.testing.assert_array_equal(random_plate_grids(100, 4, 4, 0.25, seed=3), a[:100])


def test_a_model_of_another_grid_size_is_refused(model: GridLinearRegressor) -> None:
    with pytest.raises(ValueError, match=r"trained on 4×4 plates; it cannot rank 8×8 designs"):
        rank_random_plates(model, 100, 5, True, grid=(8, 8))
    with pytest.raises(ValueError, match="k must be in 1..100"):
        rank_random_plates(model, 100, 101, True)


def test_an_ensemble_ranks_by_its_mean_and_gives_the_spread() -> None:
    ensemble = SurrogateEnsemble(GridLinearRegressor(max_epochs=3), n_members=3, random_state=0).fit(*training_data())
    grids = random_plate_grids(500, 4, 4, 0.5, seed=2)
    ranking = rank_random_plates(ensemble, 500, 4, True, 0.5, seed=2)
    members = np.stack([m.predict(grids[ranking.indices]) for m in ensemble.members_])
    np.testing.assert_allclose(ranking.scores, members.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(ranking.spread, members.std(axis=0), rtol=1e-9)
    assert ranking.indices.tolist() == reference_top(ensemble.predict(grids), grids, 4, True)


def test_a_classifier_ranks_by_the_probability_of_good() -> None:
    grids, values = training_data()
    classifier = GridCNNClassifier(max_epochs=2, random_state=0).fit(grids, (values > np.median(values)).astype(int))
    candidates = random_plate_grids(400, 4, 4, 0.5, seed=9)
    ranking = rank_random_plates(classifier, 400, 3, True, 0.5, seed=9)
    good = classifier.predict_proba(candidates)[:, -1]
    assert ranking.indices.tolist() == reference_top(good, candidates, 3, True)


def test_a_registered_model_loads_with_what_it_was_trained_on_and_a_changed_file_is_refused(
        model: GridLinearRegressor, tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = model.save(tmp_path / "m.pt")
    key = {"name": "phasefield-at2", "version": "x", "fidelity": "fast", "config_hash": "abc",
           "settings": {"mode": "II", "plane": "strain", "materials": {"soft": {"E": 100.0}}}}
    model_id = store.register_model("linear regression stiffness", "GridLinearRegressor", path,
                                    {"target": "stiffness", "task": "regression", "n_train": 48, "n_test": 12,
                                     "spearman_test": 0.9, "solver_key": key})
    loaded, record = load_registered_model(store, model_id)
    np.testing.assert_allclose(loaded.predict(training_data()[0]), model.predict(training_data()[0]))
    summary = model_summary(record, loaded)
    assert (summary["grid"], summary["labels"], summary["fidelity"], summary["mode"], summary["plane"]) == (
        "4×4", 60, "fast", "II", "strain")
    assert model_options(record) == ("fast", {"mode": "II", "plane": "strain"})
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ValueError, match="changed since it was registered"):
        load_registered_model(store, model_id)
    with pytest.raises(ValueError, match="no registered model"):
        load_registered_model(store, model_id + 1)
