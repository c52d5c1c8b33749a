"""The method registry: every method by name on generated systems with known true labels.

Truth comes from the generators (``fcc_hcp`` labels each layer by its first neighbour shell,
``slab_in_liquid`` labels slab and liquid, lattices their structure); unsupervised labels are
scored by the adjusted Rand index, which ignores cluster names. Systems are kept small
(768–864 particles) so that the file runs in well under a minute on two cores.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from engine.analysis.ordering import ParticleSystem, fcc_hcp, lattice
from engine.analysis.ordering.configurations import generate
from engine.analysis.ordering.methods import (
    METHODS, class_fractions, classify, method_function, method_options, particle_table,
)


@pytest.fixture(scope="module")
def mixture() -> ParticleSystem:
    return generate("fcc-hcp", cells=4, lindemann=0.05, seed=3)  # 768 particles


@pytest.fixture(scope="module")
def slab() -> ParticleSystem:
    return generate("slab", cells=6, slab_fraction=0.55, lindemann=0.05, seed=3)  # 864 particles


def test_every_registered_method_imports_and_names_its_options() -> None:
    for name, spec in METHODS.items():
        assert callable(method_function(name))
        assert spec.kind in ("supervised", "rule", "unsupervised") and spec.title
        assert isinstance(method_options(name), dict)
    with pytest.raises(ValueError, match="unknown method 'ptm'; allowed: mlp, q6-threshold"):
        classify(lattice("fcc", 3), "ptm")


def test_unknown_options_are_refused_with_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown option\(s\) neighbors of the mlp method; allowed: model"):
        classify(lattice("fcc", 3), "mlp", neighbors=8)
    with pytest.raises(ValueError, match="unknown descriptors 'zernike'; allowed: auto, steinhardt"):
        classify(lattice("fcc", 3), "gmm", descriptors="zernike")


@pytest.mark.parametrize(("method", "options", "message"), [
    (["mlp"], {}, r"unknown method \['mlp'\]"),
    ("autoencoder", {"epochs": 2.5}, "option epochs of the autoencoder method must be an integer, got 2.5"),
    ("gmm", {"seed": "x"}, "option seed of the gmm method must be an integer, got 'x'"),
    ("gmm", {"n_components": True}, "option n_components of the gmm method must be an integer"),
    ("dbscan", {"eps": "0.5"}, "option eps of the dbscan method must be a number, got '0.5'"),
    ("mlp", {"model": 3}, "option model of the mlp method must be a file path, got 3"),
])
def test_options_of_the_wrong_type_are_refused_not_rounded(method, options: dict, message: str) -> None:
    system = lattice("fcc", 3, lindemann=0.02, seed=1)
    with pytest.raises(ValueError, match=message):
        classify(system, method, **options)


@pytest.mark.parametrize("kind", ["fcc", "bcc", "hcp"])
def test_shipped_mlp_recognises_unseen_noisy_crystals(kind: str) -> None:
    system = lattice(kind, 5 + (kind == "bcc"), lindemann=0.05, seed=4242)
    result = classify(system, "mlp")
    accuracy = float(np.mean(result.labels == kind))
    cnn = classify(lattice(kind, 7, lindemann=0.05, seed=4242), "diffraction-cnn")  # regions of radius 3
    print(f"\n{kind} at Lindemann 0.05: MLP {accuracy:.3f}, diffraction CNN {np.mean(cnn.labels == kind):.3f}, "
          f"q6 threshold {np.mean(classify(system, 'q6-threshold').labels == kind):.3f}")
    assert accuracy >= 0.95 and np.mean(cnn.labels == kind) >= 0.95
    assert (cnn.table["confidence"].dropna() <= 1).all() and np.nanmedian(cnn.table["confidence"]) > 0.9
    confidence = result.table["confidence"].to_numpy()
    assert np.array_equal(np.isnan(confidence), result.labels == "other")
    known = confidence[~np.isnan(confidence)]
    assert ((known >= 0.25) & (known <= 1)).all() and np.median(known) > 0.9
    assert np.isnan(classify(system, "q6-threshold").table["confidence"]).all()


def test_mlp_beats_the_baseline_on_a_fcc_hcp_mixture(mixture: ParticleSystem) -> None:
    mlp = np.mean(classify(mixture, "mlp").labels == mixture.labels)
    base = np.mean(classify(mixture, "q6-threshold").labels == mixture.labels)
    cna = np.mean(classify(mixture, "cna").labels == mixture.labels)
    print(f"\nfcc/hcp mixture, Lindemann 0.05: MLP {mlp:.3f}, q6 threshold {base:.3f}, CNA {cna:.3f}")
    assert mlp > base and mlp >= 0.95
    assert cna >= 0.95  # the geometric reference agrees with the generator's stacking labels


@pytest.mark.parametrize(("method", "options"), [
    ("gmm", {"n_components": 2}),
    ("dbscan", {}),
    ("diffusion-map", {"n_components": 2}),
    ("autoencoder", {"n_components": 2, "epochs": 20}),
    ("umap", {"n_components": 2}),
    ("gmm-mlp", {"n_components": 2}),
])
def test_unsupervised_methods_recover_fcc_and_hcp(mixture: ParticleSystem, method: str, options: dict) -> None:
    result = classify(mixture, method, **options)
    score = adjusted_rand_score(mixture.labels, result.labels)
    print(f"\nfcc/hcp {method}: ARI {score:.3f}, {class_fractions(result.labels)}")
    assert score >= 0.9
    assert result.embedding_axes is not None and len(result.embedding_axes) == 2
    assert np.isfinite(result.table[["embedding_1", "embedding_2"]].to_numpy()).all()
    assert set(result.details["classes"]) >= {"cluster 1", "cluster 2"}


@pytest.mark.parametrize("method", ["gmm", "dbscan", "autoencoder"])
def test_crystal_slab_is_cluster_1_at_the_defaults(slab: ParticleSystem, method: str) -> None:
    """No option given: "auto" finds two phases by bond coherence d̄_6 and the mixtures keep K ≤ 2
    on it (K up to 6 made the slab's surface layers a third class: ARI 0.77)."""
    result = classify(slab, method, **({"epochs": 40} if method == "autoencoder" else {}))
    score = adjusted_rand_score(slab.labels, result.labels)
    print(f"\nslab {method} at its defaults ({result.details['descriptors']}): ARI {score:.3f}")
    assert score >= 0.9 and result.details["descriptors"] == "coherence-6"
    assert result.descriptor.startswith("auto: two phases")
    # cluster 1 is the most ordered: mostly the crystal
    crystal = result.labels[slab.labels == "fcc"]
    assert np.mean(crystal == "cluster 1") > 0.95


def test_gmm_chooses_k_by_lowest_bic_and_reports_probabilities(mixture: ParticleSystem) -> None:
    result = classify(mixture, "gmm")
    bic = result.details["bic"]
    assert sorted(bic, key=int) == [str(k) for k in range(1, 7)]
    assert result.details["mixture_components"] == int(min(bic, key=bic.get))
    assert 2 <= result.details["n_components"] <= result.details["mixture_components"]
    assert len(result.details["classes"]) == result.details["n_components"]
    confidence = result.table["confidence"].to_numpy()
    assert ((confidence > 0) & (confidence <= 1 + 1e-12)).all()


@pytest.mark.parametrize(("system", "method", "message"), [
    (lambda: generate("lattice", structure="hexagonal", cells=8), "mlp", "this system is 2D"),
    (lambda: generate("lattice", structure="hexagonal", cells=8), "diffraction-cnn", "this system is 2D"),
    (lambda: lattice("hcp", 4), "diffraction-cnn", "every periodic box length must exceed 6 of them; use a larger system"),
    (lambda: lattice("fcc", 1), "mlp", "at least 15 particles; the system has 4"),
    (lambda: lattice("fcc", 1), "gmm", "asked for 12 neighbours per particle but the system has 4"),
    (lambda: lattice("fcc", 2, lindemann=0.05, seed=0), "dbscan",
     "min_samples must be an integer between 1 and N = 32"),
])
def test_input_a_method_cannot_classify_is_a_clear_error(system, method: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify(system(), method, **({"min_samples": 500} if method == "dbscan" else {}))


def test_particle_table_joins_positions_truth_and_bond_order(slab: ParticleSystem) -> None:
    result = classify(slab, "mlp")
    table = particle_table(slab, result)
    assert list(table.columns) == ["particle", "x", "y", "z", "true_label", "label", "confidence", "q4", "q6"]
    np.testing.assert_array_equal(table[["x", "y", "z"]].to_numpy(), slab.positions)
    # perfect-lattice reference: q6 of noisy fcc crystal particles near 0.575 (Steinhardt 1983)
    crystal = table[table.true_label == "fcc"]
    assert 0.45 < crystal.q6.median() < 0.575
    fractions = class_fractions(result.labels)
    assert abs(sum(fractions.values()) - 1) < 1e-12
    assert list(fractions.values()) == sorted(fractions.values(), reverse=True)


@pytest.mark.parametrize("method", ["gmm", "dbscan", "diffusion-map", "autoencoder", "umap", "gmm-mlp"])
def test_a_perfect_crystal_is_one_cluster(method: str) -> None:
    """Every particle of a perfect crystal has the same environment: one cluster, whatever K is asked
    (standardised rounding noise gave 5–6 clusters before)."""
    # sc with its 6 and bcc with its 14 neighbours (the advice): float32 rounding spreads their odd-l
    # q_l by up to 2.3e-4, which standardised split sc into 3 clusters at confidence 1.000
    for kind, neighbours in (("fcc", 12), ("hcp", 12), ("sc", 6), ("bcc", 14)):
        result = classify(lattice(kind, 4), method, neighbors=neighbours)
        assert set(result.labels) == {"cluster 1"} and result.details["n_components"] == 1
        assert "same environment" in result.details["note"]
    noisy = classify(lattice("fcc", 4, lindemann=0.02, seed=5), method)  # thermal noise: a real spread, fitted
    assert "same environment" not in noisy.details.get("note", "")


@pytest.mark.parametrize("method", ["gmm", "autoencoder", "dbscan"])
def test_perfect_fcc_hcp_stacking_is_two_classes(method: str) -> None:
    """Lindemann 0: q_1, q_2 are rounding noise (~1e-7) in both phases; they are left out instead of
    standardised into structure (GMM found K = 5, ARI 0.50). DBSCAN's ε is at least the descriptors'
    resolution: at the rounding scale it split off the hcp layers next to the fcc block (ARI 0.861)."""
    system = fcc_hcp(6, lindemann=0.0, seed=0)
    result = classify(system, method)
    assert adjusted_rand_score(system.labels, result.labels) == pytest.approx(1.0)
