"""Supervised crystal-structure classification against generated ground truth.

Trained on fcc, bcc, hcp (Lindemann 0–0.12) and liquid configurations; tested on fresh seeds
and larger systems. Shown: ≥ 95 % per-particle accuracy on each crystal at Lindemann 0.05, the
MLP beating the q6-threshold baseline (q6 over SANN neighbours) on the same particles,
confidences, structures it never saw (sc, diamond) reported as "other", and perfect lattices
classified right by the baseline, whose q6 then takes the published values. Run with ``-s`` to
see the accuracy table.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.ordering import lattice
from engine.analysis.ordering.features import bond_order_features
from engine.analysis.ordering.methods import class_fractions, classify
from engine.analysis.ordering.supervised import (
    OTHER, BondOrderMLP, Q6Threshold, synthetic_systems, synthetic_training_set,
)

CLASSES = ("fcc", "bcc", "hcp", "liquid")

#: q6 of perfect lattices over their first shell (published values of ``shared/data/README.md``;
#: bcc with its 14 first- and second-shell neighbours, the shell SANN takes, van Meel et al. 2012).
PUBLISHED_Q6 = {"fcc": 0.57452, "hcp": 0.48476, "bcc": 0.51069}


def _baseline_set(systems) -> tuple[np.ndarray, np.ndarray]:
    baseline = Q6Threshold(0, neighbors="sann")
    return np.vstack([baseline.inputs(s) for s in systems]), np.concatenate([s.labels for s in systems])


@pytest.fixture(scope="module")
def trained() -> tuple[BondOrderMLP, Q6Threshold]:
    systems = synthetic_systems(cells=4, seed=0)
    X = np.vstack([bond_order_features(s) for s in systems])
    y = np.concatenate([s.labels for s in systems])
    return BondOrderMLP(random_state=0).fit(X, y), Q6Threshold(0, neighbors="sann").fit(*_baseline_set(systems))


def _accuracies(model, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    predicted = model.predict(X)
    return {c: float(np.mean(predicted[y == c] == c)) for c in CLASSES}


@pytest.mark.parametrize("ratio", [0.05, 0.10])
def test_mlp_beats_the_q6_baseline_on_unseen_noisy_crystals(trained, ratio: float) -> None:
    mlp, baseline = trained
    systems = synthetic_systems([ratio], cells=5, seed=1000)
    X, y = np.vstack([bond_order_features(s) for s in systems]), np.concatenate([s.labels for s in systems])
    Q, _ = _baseline_set(systems)
    learned, base = _accuracies(mlp, X, y), _accuracies(baseline, Q, y)
    print(f"\nLindemann {ratio}: " + ", ".join(
        f"{c} MLP {learned[c]:.3f} / q6 {base[c]:.3f}" for c in CLASSES))
    if ratio == 0.05:
        assert min(learned[c] for c in ("fcc", "bcc", "hcp")) >= 0.95
        assert learned["liquid"] >= 0.95
    overall = np.mean(mlp.predict(X) == y)
    assert overall > np.mean(baseline.predict(Q) == y)


@pytest.mark.parametrize("kind", ["fcc", "bcc", "hcp", "sc", "diamond"])
def test_the_baseline_classifies_perfect_lattices_right(trained, kind: str) -> None:
    """A perfect lattice has one environment, so one answer: its own structure for the trained
    ones, "other" for sc and diamond (the shipped baseline uses the MLP's novelty test for that).
    With 12 nearest neighbours a perfect bcc crystal's q6 is ill-defined (0.5425–0.5591: 4 of the
    6 second-shell neighbours, picked by rounding) and 55–70 % of it came out fcc; SANN closes
    each shell, giving the published q6, and the thresholds lie halfway between training values,
    so rounding cannot push a perfect lattice across one."""
    system = lattice(kind, {"bcc": 5, "sc": 6, "diamond": 3}.get(kind, 4))
    _, baseline = trained
    q6 = baseline.inputs(system)
    shipped = classify(system, "q6-threshold")
    print(f"\nperfect {kind}: q6 (SANN) {q6.min():.5f}–{q6.max():.5f}; shipped baseline "
          f"{class_fractions(shipped.labels)}")
    if kind in PUBLISHED_Q6:
        np.testing.assert_allclose(q6, PUBLISHED_Q6[kind], atol=1e-4)
        assert np.all(baseline.predict(q6) == kind)
        assert np.all(shipped.labels == kind)
    else:
        assert np.all(shipped.labels == OTHER)


def test_threshold_lies_halfway_between_the_training_values_either_side() -> None:
    """Two classes at exactly 0.3 and 0.5 (a perfect-lattice training set): the error-free cut is any
    value in [0.3, 0.5); the threshold is 0.4, not 0.3, where rounding of a new 0.3 would decide."""
    X = np.repeat([[0.3], [0.5]], 10, axis=0)
    y = np.repeat(["liquid", "fcc"], 10)
    baseline = Q6Threshold(0).fit(X, y)
    assert baseline.thresholds_ == pytest.approx([0.4])
    assert list(baseline.predict(np.array([[0.3 + 1e-7], [0.5 - 1e-7]]))) == ["liquid", "fcc"]


def test_predictions_come_with_confidences(trained) -> None:
    mlp, _ = trained
    X, y = synthetic_training_set([0.05], cells=4, seed=2000)
    labels, confidence = mlp.predict_with_confidence(X)
    assert labels.shape == confidence.shape == y.shape
    known = labels != OTHER
    assert ((confidence[known] >= 1 / len(CLASSES)) & (confidence[known] <= 1)).all()
    assert np.isnan(confidence[~known]).all()  # no class probability where no class fits
    np.testing.assert_allclose(mlp.predict_proba(X).sum(axis=1), 1.0)
    assert np.nanmean(confidence[y != "liquid"]) > 0.95


def test_untrained_structures_are_reported_as_other(trained) -> None:
    mlp, _ = trained
    for kind in ("sc", "diamond"):
        predicted, confidence = mlp.predict_with_confidence(
            bond_order_features(lattice(kind, 4, lindemann=0.05, seed=3)))
        assert np.mean(predicted == OTHER) >= 0.9, kind
        assert np.isnan(confidence[predicted == OTHER]).all()  # the softmax is confident here: not shown
    X, _ = synthetic_training_set([0.05], cells=4, seed=3000)
    assert np.mean(mlp.predict(X) == OTHER) <= 0.01  # known structures rarely "other"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_training_is_seeded() -> None:
    X, y = synthetic_training_set([0.0, 0.1], cells=3, liquid_particles=200, seed=5)
    a = BondOrderMLP((16,), max_iter=50, random_state=3).fit(X, y).predict_proba(X)
    b = BondOrderMLP((16,), max_iter=50, random_state=3).fit(X, y).predict_proba(X)
    assert np.array_equal(a, b)


def test_bad_features_are_refused(trained) -> None:
    mlp, _ = trained
    X = np.zeros((3, 14))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match="X holds NaN or infinite features"):
        mlp.predict(X)
    with pytest.raises(ValueError, match=r"y must have shape \(3,\) to match X"):
        BondOrderMLP().fit(np.zeros((3, 14)), ["fcc", "bcc"])
    with pytest.raises(ValueError, match=r"X must have shape \(N, F\)"):
        mlp.predict(np.zeros(14))
