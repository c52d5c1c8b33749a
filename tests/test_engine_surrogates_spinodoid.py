"""Spinodoid forward net and tandem inverse against the published data set (Kumar et al. 2020).

One seeded random 90/10 split (seed 0: 19 170 train / 2 130 test). Our equivariant forward net
is trained here with its defaults and held to the accuracy the authors published for their own
net (forward test R² ≈ 0.997, implied by the loss histories shipped with their code; their
recipe: Adam 1e-4, batch 64, 200 epochs, a random 90/10 split of their own). Training the
published architecture by that recipe takes ~190 s on 2 cores, too long for a test: the
head-to-head on this split runs in ``tests/benchmarks/bench_surrogates.py`` (measured there on
2 CPU cores: published net mean R² 0.99646, ours 0.99673).

Figures quoted as "measured" next to thresholds come from ``pytest -s`` on the 2-core test machine
(torch 2.13.0+cpu, CPU, the seeds in the tests).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.surrogates import (
    STIFFNESS_COMPONENTS,
    SpinodoidEquivariantNet,
    TandemInverse,
    load_kumar2020,
    permute_axes,
    snap_angles,
    train_test_split_indices,
)
from support_data import KUMAR2020_CSV


pytestmark = pytest.mark.slow

#: Forward test R² of the published net (Kumar et al. 2020), implied by their shipped loss histories.
PUBLISHED_FORWARD_R2 = 0.997


@pytest.fixture(scope="module")
def split():
    X, Y = load_kumar2020(KUMAR2020_CSV)
    tr, te = train_test_split_indices(len(X), test_fraction=0.1, seed=0)
    return X[tr], Y[tr], X[te], Y[te]


@pytest.fixture(scope="module")
def ours(split):
    Xtr, Ytr, _, _ = split
    return SpinodoidEquivariantNet(random_state=0, device="cpu").fit(Xtr, Ytr)


def test_data_set_as_published():
    X, Y = load_kumar2020(KUMAR2020_CSV)
    assert X.shape == (21300, 4) and Y.shape == (21300, 9)
    assert 0.29 < X[:, 0].min() and X[:, 0].max() < 0.91
    theta = X[:, 1:]
    assert ((theta == 0) | ((theta >= 15) & (theta <= 90))).all()
    n_open = (theta > 0).sum(1)
    assert np.bincount(n_open)[1:].tolist() == [3 * 2900, 3 * 2400, 5400]


def test_forward_net_reaches_the_published_accuracy(split, ours):
    """Our net (defaults, <= 40 epochs) against the published figure R² ≈ 0.997 (not against a rerun).

    The published figure comes from another random split, so differences below ~0.001 are not
    resolved: the claim tested is "as accurate as published", not "better".
    """
    _, _, Xte, Yte = split
    r2 = ours.score_per_component(Xte, Yte)
    print(f"\nheld-out R² of the equivariant net (published figure: {PUBLISHED_FORWARD_R2})")
    for name, value in zip(STIFFNESS_COMPONENTS, r2):
        print(f"{name:>9} {value:.5f}")
    print(f"{'mean':>9} {r2.mean():.5f}")
    # Thresholds just under the measured values: mean 0.99673, per component 0.99619 (C12, C13)
    # to 0.99716 (C44). bench_surrogates.py prints the same figures and, for the published net
    # trained by its own recipe on this split, mean 0.99646, min 0.99589.
    assert r2.mean() >= PUBLISHED_FORWARD_R2 - 0.0005, r2.mean()
    assert (r2 >= PUBLISHED_FORWARD_R2 - 0.001).all(), r2


def test_equivariant_net_is_exactly_permutation_equivariant(split, ours):
    _, _, Xte, _ = split
    pred = ours.predict(Xte)
    for perm in itertools.permutations(range(3)):
        Xp, Yp = permute_axes(Xte, pred, perm)
        np.testing.assert_allclose(ours.predict(Xp), Yp, rtol=1e-5, atol=1e-6)


def test_published_direction_and_scaling_facts(split, ours):
    """Facts quoted from the data set: θx only → compliant along x; isotropic C11 ≈ 1.41 ρ^2.22."""
    rho = np.linspace(0.5, 0.6, 11)
    X = np.column_stack([rho, np.full(11, 45.0), np.zeros(11), np.zeros(11)])
    C = ours.predict(X)
    print(f"\nθx only, ρ 0.5–0.6: mean C11 {C[:, 0].mean():.3f}, C22 {C[:, 3].mean():.3f}, C33 {C[:, 5].mean():.3f}")
    # measured: C11 0.172, C22 = C33 0.476
    assert C[:, 0].mean() == pytest.approx(0.17, abs=0.05)
    assert C[:, 3].mean() == pytest.approx(0.50, abs=0.08) and C[:, 5].mean() == pytest.approx(0.50, abs=0.08)
    rho = np.linspace(0.4, 0.9, 6)
    iso = ours.predict(np.column_stack([rho, np.full((6, 3), 90.0)]))
    print(f"isotropic C11 / (1.41 ρ^2.22) - 1: {np.round(iso[:, 0] / (1.41 * rho**2.22) - 1, 3)}")
    # measured: -0.022 to +0.038
    np.testing.assert_allclose(iso[:, 0], 1.41 * rho**2.22, rtol=0.15)


def test_data_symmetry_holds_for_predictions_of_permuted_test_set(split, ours):
    """Outside truth: permuting the axes of held-out samples permutes their measured stiffness."""
    _, _, Xte, Yte = split
    Xp, Yp = permute_axes(Xte, Yte, (1, 2, 0))
    from sklearn.metrics import r2_score

    r2 = r2_score(Yp, ours.predict(Xp), multioutput="raw_values")
    print(f"\nR² on the permuted test set: min {r2.min():.5f}, mean {r2.mean():.5f}")
    # measured: min 0.99619, mean 0.99673 (as on the unpermuted test set)
    assert r2.min() > 0.99


@pytest.fixture(scope="module")
def tandem(split, ours):
    _, Ytr, _, _ = split
    return TandemInverse(ours, max_epochs=8, batch_size=128, refine_steps=100, random_state=0, device="cpu").fit(Ytr)


def test_tandem_reconstruction_r2(split, tandem):
    """Reconstruction R² on 500 held-out targets (a seeded subset, to keep the refinement cheap)."""
    from sklearn.metrics import r2_score

    _, _, _, Yte = split
    Y = Yte[np.random.default_rng(0).permutation(len(Yte))[:500]]
    r2_snap = tandem.reconstruction_r2(Y, refine=False)
    params = tandem.predict(Y)
    r2 = np.asarray(r2_score(Y, tandem.forward_stiffness(params), multioutput="raw_values"))
    print("\ntandem reconstruction R² (snapped only):", np.round(r2_snap, 5))
    print("tandem reconstruction R² (snapped + refined):", np.round(r2, 5), "mean", round(float(r2.mean()), 5))
    # measured: refined 0.99968 to 0.99990, mean 0.99979 (snapped only 0.99777 to 0.99908);
    # published tandem reconstruction R² ≈ 0.9997
    assert (r2 >= 0.99).all(), r2
    theta = params[:, 1:]
    assert ((theta == 0) | ((theta >= 15 - 1e-4) & (theta <= 90 + 1e-4))).all()
    assert (params[:, 0] >= 0.3 - 1e-6).all() and (params[:, 0] <= 0.9 + 1e-6).all()


def test_angle_snapping_as_published():
    np.testing.assert_array_equal(snap_angles([0.0, 7.4, 7.5, 14.9, 15.0, 60.0]), [0, 0, 15, 15, 15, 60])


def test_tandem_gives_several_distinct_candidates(split, tandem):
    _, _, Xte, Yte = split
    target = Yte[0]
    cands = tandem.candidates(target, n_candidates=4, min_distance=0.1)
    print(f"\n{len(cands)} candidates, relative errors {[round(c.relative_error, 4) for c in cands]}")
    # measured: 4 candidates, relative errors 0.005, 0.223, 0.222, 0.254
    assert 2 <= len(cands) <= 4
    assert cands[0].error <= cands[-1].error
    assert cands[0].relative_error < 0.05
    for a, b in itertools.combinations(cands, 2):
        assert np.max(np.abs(a.params - b.params) / [0.6, 90, 90, 90]) >= 0.1
    for c in cands:
        th = c.params[1:]
        assert ((th == 0) | (th >= 15 - 1e-4)).all()
