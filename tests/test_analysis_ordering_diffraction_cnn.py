"""The diffraction-image CNN against generated ground truth, next to the q6 baseline and the MLP.

Test particles (fresh seeds, none seen in training): fcc (500), bcc (432), hcp (448) crystals,
each turned into one random orientation, and relaxed-packing liquids (:func:`liquid`, 500 at the
fcc density √2 and 500 at the bcc density), at Lindemann ratios 0.05 and 0.10. On the same
particles: the shipped CNN (``models/diffraction_cnn.pt``, trained by
``python -m engine.analysis.ordering.diffraction_cnn`` on crystals in random orientations), the
q6-threshold baseline and the bond-order MLP, both trained on
:func:`synthetic_training_set` (as in ``test_analysis_ordering_supervised.py``). The real
Kob–Andersen glass is checked in ``test_analysis_ordering_glass.py``. Run with ``-s`` to see
the accuracy table.
"""

from __future__ import annotations


import numpy as np
import pytest

from engine.analysis.ordering import lattice, liquid
from engine.analysis.ordering.diffraction import DiffractionSettings, diffraction_images, random_rotations
from engine.analysis.ordering.diffraction_cnn import (
    OTHER, SHIPPED_CNN, DiffractionCNN, diffraction_training_set, load_shipped_cnn,
)
from engine.analysis.ordering.features import bond_order_features
from engine.analysis.ordering.supervised import BondOrderMLP, Q6Threshold, synthetic_training_set

CLASSES = ("fcc", "bcc", "hcp", "liquid")


@pytest.fixture(scope="module")
def baselines() -> tuple[Q6Threshold, BondOrderMLP]:
    X, y = synthetic_training_set(cells=4, seed=0)
    return Q6Threshold().fit(X, y), BondOrderMLP(random_state=0).fit(X, y)


def _test_systems(ratio: float, seed: int):
    systems = [
        lattice("fcc", 5, lindemann=ratio, seed=seed),
        lattice("bcc", 6, lindemann=ratio, seed=seed + 1),
        lattice("hcp", (7, 4, 4), lindemann=ratio, seed=seed + 2),
        liquid(500, np.sqrt(2.0), seed=seed + 3),
        liquid(500, 2.0 / (2.0 / np.sqrt(3.0)) ** 3, seed=seed + 4),
    ]
    turns = random_rotations(len(systems), seed + 5)
    return systems, turns


def _per_class(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    return {c: float(np.mean(predicted[truth == c] == c)) for c in CLASSES}


@pytest.mark.parametrize("ratio", [0.05, 0.10])
def test_cnn_beats_the_q6_baseline_on_unseen_noisy_crystals(baselines, ratio: float) -> None:
    cnn, settings = load_shipped_cnn()
    q6, mlp = baselines
    systems, turns = _test_systems(ratio, seed=4000)
    images = np.concatenate([diffraction_images(s, settings, rotations=r)
                             for s, r in zip(systems, turns)])
    features = np.vstack([bond_order_features(s) for s in systems])
    truth = np.concatenate([s.labels for s in systems])
    labels, confidence = cnn.predict_with_confidence(images)
    scores = {"CNN": _per_class(labels, truth), "q6": _per_class(q6.predict(features), truth),
              "MLP": _per_class(mlp.predict(features), truth)}
    overall = {"CNN": np.mean(labels == truth), "q6": np.mean(q6.predict(features) == truth),
               "MLP": np.mean(mlp.predict(features) == truth)}
    print(f"\nLindemann {ratio:.2f} (N = {len(truth)}): " + "; ".join(
        f"{name} " + ", ".join(f"{c} {s[c]:.3f}" for c in CLASSES) + f", all {overall[name]:.3f}"
        for name, s in scores.items()) + f"; CNN 'other' {np.mean(labels == OTHER):.3f}")
    if ratio == 0.05:
        assert min(scores["CNN"][c] for c in CLASSES) >= 0.95
    assert overall["CNN"] > overall["q6"]
    known = labels != OTHER
    assert ((confidence[known] >= 1 / len(CLASSES)) & (confidence[known] <= 1)).all()
    assert np.isnan(confidence[~known]).all()


def test_shipped_weights_are_small_and_load_safely(tmp_path) -> None:
    assert SHIPPED_CNN.stat().st_size < 1_000_000
    cnn, settings = load_shipped_cnn()
    assert list(cnn.classes_) == sorted(CLASSES)
    assert isinstance(settings, DiffractionSettings)
    images = diffraction_images(lattice("fcc", 5, lindemann=0.05, seed=1), settings)[:50]
    cnn.save(tmp_path / "copy.pt", settings)
    again, _ = DiffractionCNN.load(tmp_path / "copy.pt")
    np.testing.assert_array_equal(again.predict_proba(images), cnn.predict_proba(images))
    (tmp_path / "bad.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="cannot read a diffraction CNN"):
        DiffractionCNN.load(tmp_path / "bad.pt")


def test_training_is_seeded_and_learns() -> None:
    X, y = diffraction_training_set(40, seed=11)
    assert X.shape == (160, 3, 32, 32) and sorted(set(y)) == sorted(CLASSES)
    a = DiffractionCNN(epochs=4, batch_size=32, random_state=3, device="cpu").fit(X, y)
    b = DiffractionCNN(epochs=4, batch_size=32, random_state=3, device="cpu").fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_[-1] < a.loss_curve_[0]


def test_bad_input_is_refused() -> None:
    cnn, _ = load_shipped_cnn()
    with pytest.raises(ValueError, match=r"images must have shape \(N, C, P, P\)"):
        cnn.predict(np.zeros((3, 32, 32)))
    bad = np.zeros((2, 3, 32, 32), np.float32)
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        cnn.predict(bad)
    with pytest.raises(ValueError, match="must have 3 channels as in fit"):
        cnn.predict(np.zeros((2, 5, 32, 32), np.float32))
    with pytest.raises(ValueError, match=r"y must have shape \(2,\) to match X"):
        DiffractionCNN().fit(np.zeros((2, 3, 16, 16)), ["fcc"])


def test_a_box_of_exactly_two_region_radii_is_imaged_at_every_length_unit() -> None:
    """The default fcc/hcp stacking is 6 nearest-neighbour distances wide, twice the CNN's region
    radius: the same crystal in units of 1, 7 or 3.4e-10 (metres) gives the same classes (7 and
    3.4e-10 were refused by rounding of the measured length scale)."""
    from engine.analysis.ordering import ParticleSystem, fcc_hcp
    from engine.analysis.ordering.methods import classify

    crystal = fcc_hcp(6, lindemann=0.05, seed=4)
    reference = classify(crystal, "diffraction-cnn").labels
    for unit in (7.0, 3.4e-10):
        box = crystal.box
        scaled = ParticleSystem(crystal.positions * unit, type(box)(*(np.asarray(box.L) * unit)))
        np.testing.assert_array_equal(classify(scaled, "diffraction-cnn").labels, reference)
