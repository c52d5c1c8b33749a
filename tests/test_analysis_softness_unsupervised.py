"""The unsupervised order parameter (Boattini et al. 2020) against truths outside the code.

* Textbook values: a perfect fcc lattice has q̄_4 = 0.19094 and q̄_6 = 0.57452 (Steinhardt et
  al. 1983; averaging changes nothing on a perfect lattice), with SANN and with a cutoff between
  the first and second shells.
* Planted structure: an fcc crystal block (Lindemann 0.05) stacked on a liquid block at 0.8 of
  its density (:func:`_crystal_on_liquid`), one periodic box, true labels known. The two
  clusters must recover crystal and liquid (ARI ≥ 0.95) away from the two interfaces: q̄
  averages over the second shell, so the two crystal layers next to the liquid are genuinely
  in between (measured on a crystal slab in liquid: the boundary between the clusters sits
  1–1.5 σ inside the crystal), hence particles within 1.5 σ of an interface are not scored.
  The looser cluster must be the liquid, and the same fitted model must classify a new system
  (another seed) as well. Measured while building this (fit on seed 0, applied to seeds 0 and
  1): ARI 1.000 on the bulk, mean P 1.000 in the liquid and 0.000 in the crystal.
* Kob–Andersen data (``tests/data/glass``): fitted on the A particles of configuration 1 (no
  propensity used), scored on 401–403. Measured with this test's settings: Pearson r of P with
  propensity 0.042 / 0.045 / 0.030, mean 0.039 (seeds 1, 2 of the same recipe: 0.034, 0.000);
  the benchmark (fit on 1–10, 100 epochs) gives 0.023 / 0.032 / −0.001 for seeds 0–2, against
  0.567 for the shipped supervised ridge. The test holds the seeded figure to 0.05 and checks
  that it stays far below that baseline: with q̄_1…q̄_8 inputs, the unsupervised order
  parameter carries next to no information on Kob–Andersen propensity (module notes).

Run with ``-s`` to see the measured values.
"""

from __future__ import annotations

import functools
from pathlib import Path

import freud
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from engine.analysis.ordering import ParticleSystem, lattice, liquid
from engine.analysis.softness.isoconfig import read_isoconfigurational
from engine.analysis.softness.shipped import KA_BOX
from engine.analysis.softness.unsupervised import (
    UnsupervisedOrder, UnsupervisedRecipe, describe, fit_unsupervised,
)

GLASS = Path(__file__).parent / "data" / "glass"
#: Seeded KA figure measured with the settings of the KA test, and the allowed shortfall.
KA_MEASURED, KA_MARGIN = 0.039, 0.05
#: Mean Pearson of the shipped supervised ridge on the same particles (held by
#: tests/test_analysis_softness_glass.py; recomputing it here would cost ~20 s of CPU).
RIDGE_MEASURED = 0.567
SYNTHETIC = UnsupervisedRecipe(epochs=30)


@functools.cache
def _crystal_on_liquid(seed: int) -> tuple[ParticleSystem, np.ndarray]:
    """fcc block (8 × 8 × 6 cells, 1536 particles) on a liquid block at 0.8 × its density,
    stacked along z in one periodic box; returns the system (labels "fcc"/"liquid") and which
    particles lie farther than 1.5 σ from both interfaces."""
    rng = np.random.default_rng(seed)
    crystal = lattice("fcc", (8, 8, 6), lindemann=0.05, seed=rng)
    lx, ly, lc = (float(v) for v in crystal.box.L)
    density = 0.8 * crystal.density
    n_liquid = 1300
    height = n_liquid / density / (lx * ly)
    fluid = liquid(n_liquid, density, aspect=(lx, ly, height), seed=rng)
    lz = lc + height
    pos = np.vstack([crystal.positions + [0, 0, -lz / 2 + lc / 2],
                     fluid.positions + [0, 0, lz / 2 - height / 2]])
    system = ParticleSystem(pos, freud.box.Box(lx, ly, lz),
                            labels=np.r_[crystal.labels, fluid.labels])
    z = system.positions[:, 2]
    interfaces = np.array([-lz / 2 + lc, lz / 2])  # the second one is also -lz/2 (periodic)
    gap = np.abs(z[:, None] - interfaces[None])
    gap = np.minimum(gap, lz - gap).min(axis=1)
    return system, gap > 1.5


@functools.cache
def _synthetic_model() -> UnsupervisedOrder:
    return fit_unsupervised(_crystal_on_liquid(0)[0], SYNTHETIC)


def test_qbar_of_a_perfect_fcc_lattice_has_the_textbook_values() -> None:
    system = lattice("fcc", 4)  # nearest neighbours at 1, second shell at √2
    for neighbors in ("sann", 1.2):
        q = describe(system, UnsupervisedRecipe(neighbors=neighbors))
        assert q.shape == (system.n_particles, 8)
        np.testing.assert_allclose(q[:, 3], 0.19094, atol=2e-5)
        np.testing.assert_allclose(q[:, 5], 0.57452, atol=2e-5)
        np.testing.assert_allclose(q[:, [0, 2, 4, 6]], 0.0, atol=1e-5)  # centrosymmetric: odd l vanish


@pytest.mark.parametrize("scale", [1e-20, 1e20])
def test_qbar_does_not_depend_on_the_length_unit(scale: float) -> None:
    """At spacings outside 2^±40 freud computes on rescaled coordinates (ParticleSystem.freud_scale);
    a cutoff given in the data's unit must still select the first shell."""
    system = lattice("fcc", 4)
    scaled = ParticleSystem(system.positions * scale, freud.box.Box(*(np.asarray(system.box.L) * scale)))
    assert scaled.freud_scale != 1.0
    for neighbors in ("sann", 1.2 * scale):
        q = describe(scaled, UnsupervisedRecipe(neighbors=neighbors))
        np.testing.assert_allclose(q[:, 5], 0.57452, atol=2e-5)


def test_clusters_recover_a_planted_crystal_and_liquid() -> None:
    system, bulk = _crystal_on_liquid(0)
    model = _synthetic_model()
    p = model.probability(system)
    liquid_ = system.labels == "liquid"
    ari = adjusted_rand_score(system.labels[bulk], p[bulk] > 0.5)
    print(f"\nplanted crystal/liquid: ARI {ari:.3f} on {bulk.sum()} bulk particles (all: "
          f"{adjusted_rand_score(system.labels, p > 0.5):.3f}); mean P liquid "
          f"{p[bulk & liquid_].mean():.3f}, crystal {p[bulk & ~liquid_].mean():.3f}; looseness "
          f"{np.round(model.cluster_looseness, 3)}, mean q̄ {np.round(model.cluster_order, 3)}; "
          f"r(q̄_l, P) {np.round(model.input_probability_correlation, 2)}; fit {model.fit_seconds:.1f} s")
    assert ari >= 0.95
    # the mobile (looser) cluster is the liquid, and the "less ordered" rule agrees here
    assert p[bulk & liquid_].mean() > 0.9 and p[bulk & ~liquid_].mean() < 0.1
    looseness = model.cluster_looseness
    assert looseness[model.mobile_cluster] > 0 > looseness[1 - model.mobile_cluster]
    assert int(np.argmin(model.cluster_order)) == model.mobile_cluster
    # q̄_6 (the classic crystal/liquid separator; Lechner & Dellago 2008) drives P down
    assert model.input_probability_correlation[5] < -0.8
    assert model.input_code_correlation.shape == (8, 2)
    assert 0 < model.fve <= 1 and model.n_train == system.n_particles


def test_a_fitted_model_classifies_a_new_system() -> None:
    system, bulk = _crystal_on_liquid(1)
    p = _synthetic_model().probability(system)
    ari = adjusted_rand_score(system.labels[bulk], p[bulk] > 0.5)
    print(f"\nnew system (seed 1): ARI {ari:.3f}")
    assert ari >= 0.95 and np.all((p >= 0) & (p <= 1))
    assert p[bulk & (system.labels == "liquid")].mean() > 0.9


def test_fits_are_reproducible_and_seeded() -> None:
    system = _small_mixture()
    recipe = UnsupervisedRecipe(epochs=20, random_state=3)
    a = fit_unsupervised(system, recipe).probability(system)
    b = fit_unsupervised(system, recipe).probability(system)
    assert np.array_equal(a, b)
    c = fit_unsupervised(system, UnsupervisedRecipe(epochs=20, random_state=4)).probability(system)
    assert not np.array_equal(a, c)


def _ka(k: int):
    return read_isoconfigurational(GLASS / f"ka3d_T0.44_config{k}.npz", box_length=KA_BOX)


def test_kob_andersen_correlation_with_propensity_is_as_measured() -> None:
    model = fit_unsupervised(_ka(1).system, UnsupervisedRecipe(species="A"))
    ours = []
    for k in (401, 402, 403):
        sample = _ka(k)
        a = sample.system.species == "A"
        p = model.probability(sample.system)
        assert np.isnan(p[~a]).all() and np.all((p[a] >= 0) & (p[a] <= 1))
        ours.append(np.corrcoef(p[a], sample.propensity[a])[0, 1])
    print(f"\nKA Pearson(P, propensity) on A: {np.round(ours, 3)}, mean {np.mean(ours):.3f} "
          f"(shipped supervised ridge: {RIDGE_MEASURED}); cluster weights "
          f"{np.round(model.cluster_weights, 2)}; fit {model.fit_seconds:.1f} s")
    assert np.mean(ours) >= KA_MEASURED - KA_MARGIN
    assert RIDGE_MEASURED - np.mean(ours) > 0.3  # the supervised baseline stays far ahead


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ls": ()}, "ls must"),
        ({"ls": (0, 4)}, "ls must"),
        ({"neighbors": "delaunay"}, "neighbors must"),
        ({"neighbors": 0}, "neighbors must"),
        ({"neighbors": -1.0}, "neighbors must"),
        ({"neighbors": True}, "neighbors must"),
        ({"species": ""}, "species must"),
        ({"mobile": "faster"}, "mobile must"),
        ({"n_code": 0}, "n_code must"),
        ({"epochs": 2.5}, "epochs must"),
        ({"learning_rate": 0.0}, "learning_rate must"),
    ],
)
def test_recipe_refuses_bad_settings(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UnsupervisedRecipe(**settings)


@functools.cache
def _small_mixture(dim: int = 3) -> ParticleSystem:
    base = liquid(120, 1.0, dim=dim, seed=5)
    return ParticleSystem(base.positions, base.box, species=np.where(np.arange(120) % 5, "A", "B"))


def test_bad_input_gets_a_clear_message() -> None:
    system = _small_mixture()
    model = fit_unsupervised(system, UnsupervisedRecipe(species="A", epochs=2))
    assert np.isnan(model.probability(system)[system.species == "B"]).all()
    no_species = ParticleSystem(system.positions, system.box)
    with pytest.raises(ValueError, match="no species"):
        model.probability(no_species)
    with pytest.raises(ValueError, match="no species"):
        fit_unsupervised(no_species, UnsupervisedRecipe(species="A"))
    only_b = ParticleSystem(system.positions, system.box, species=np.full(120, "B"))
    with pytest.raises(ValueError, match="no particles of species 'A'"):
        model.probability(only_b)
    with pytest.raises(ValueError, match="fitted on 3D systems; this system is 2D"):
        model.probability(_small_mixture(2))
    with pytest.raises(ValueError, match="mix dimensions"):
        fit_unsupervised([system, _small_mixture(2)], UnsupervisedRecipe(species="A"))
    with pytest.raises(ValueError, match="NaN"):  # NaN positions never reach the model
        ParticleSystem(np.where(np.arange(360).reshape(120, 3) == 7, np.nan, system.positions),
                       system.box, species=system.species)
    with pytest.raises(ValueError, match="ParticleSystem"):
        model.probability(system.positions)
    with pytest.raises(ValueError, match="no training systems"):
        fit_unsupervised([])
    with pytest.raises(ValueError, match="no neighbours"):
        describe(system, UnsupervisedRecipe(neighbors=0.05))
    with pytest.raises(ValueError, match="cutoff"):
        describe(system, UnsupervisedRecipe(neighbors=100.0))
