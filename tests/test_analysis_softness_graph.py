"""The propensity graph network (engine.analysis.softness.graph_network) on synthetic data of known truth.

Its score on the Kob–Andersen data is in test_analysis_softness_glass.py (shared descriptors).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import torch

from engine.analysis.ordering.liquids import liquid
from engine.analysis.ordering.neighbors import ball_pairs, pair_geometry
from engine.analysis.ordering.systems import ParticleSystem
from engine.analysis.softness.graph_network import GraphNetworkConfig, load_graph_model, train_propensity_gn
from engine.analysis.softness.isoconfig import GlassSample
from engine.analysis.softness.models import train_propensity_ridge
from engine.runtime.device import cuda_available

CUTOFF = 1.6


def _neighbour_mean(system: ParticleSystem, x: np.ndarray) -> np.ndarray:
    """Mean of x over each particle's neighbours closer than CUTOFF (an explicit sparse average)."""
    i, j, _, r = pair_geometry(system, ball_pairs(system, CUTOFF))
    near = r < CUTOFF
    A = scipy.sparse.csr_matrix((np.ones(near.sum()), (i[near], j[near])), shape=(system.n_particles,) * 2)
    return np.asarray(A @ x).ravel() / np.maximum(np.asarray(A.sum(axis=1)).ravel(), 1)


def _synthetic(seed: int, dim: int = 3) -> tuple[GlassSample, np.ndarray]:
    """A liquid whose 'propensity' is the neighbour mean of a per-particle feature: only message passing sees it."""
    rng = np.random.default_rng(seed)
    base = liquid(400 if dim == 3 else 300, 1.0, dim=dim, seed=seed)
    system = ParticleSystem(base.positions, base.box, species=np.where(rng.random(base.n_particles) < 0.8, "A", "B"))
    X = rng.normal(size=(system.n_particles, 3))
    return GlassSample(system, _neighbour_mean(system, X[:, 0]) + 0.1 * X[:, 1]), X


CONFIG = GraphNetworkConfig(hidden=16, steps=1, edge_cutoff=CUTOFF, lr=3e-3, weight_decay=0.0,
                            epochs=150, seed=1)


@pytest.fixture(scope="module")
def trained():
    data = [_synthetic(seed) for seed in range(4)]
    samples, features = [d[0] for d in data[:3]], [d[1] for d in data[:3]]
    model = train_propensity_gn(samples, features=features, config=CONFIG, device="cpu")
    return model, samples, features, data[3]


def test_message_passing_learns_a_neighbour_average_a_linear_model_cannot(trained) -> None:
    model, samples, features, (held_out, X) = trained
    ridge = train_propensity_ridge(samples, features=features)
    a = held_out.system.species == "A"
    gn = np.corrcoef(model.predict(held_out.system, X, device="cpu")[a], held_out.propensity[a])[0, 1]
    linear = np.corrcoef(ridge.predict(held_out.system, X)[a], held_out.propensity[a])[0, 1]
    print(f"\nheld-out Pearson: graph network {gn:.3f}, ridge on the same node features {linear:.3f}")
    assert gn > 0.9 and linear < 0.4  # measured 0.97 and 0.20
    assert np.isnan(model.predict(held_out.system, X, device="cpu")[~a]).all()
    assert model.details["configurations"] == 3 and model.details["epochs"] == CONFIG.epochs


def test_predictions_follow_a_permutation_and_ignore_rotation_and_translation(trained) -> None:
    model, *_, (held_out, X) = trained
    system = held_out.system
    before = model.predict(system, X, device="cpu")
    order = np.random.default_rng(5).permutation(system.n_particles)
    permuted = ParticleSystem(system.positions[order], system.box, species=system.species[order])
    np.testing.assert_allclose(model.predict(permuted, X[order], device="cpu"), before[order], atol=1e-5,
                               equal_nan=True)
    L = system.box.Lx
    shifted = ParticleSystem(system.positions + [0.3 * L, -0.2 * L, 0.45 * L], system.box, species=system.species)
    np.testing.assert_allclose(model.predict(shifted, X, device="cpu"), before, atol=1e-5, equal_nan=True)
    # A cubic box turned by 90° about z is the same periodic box.
    turned = ParticleSystem(system.positions @ np.array([[0, 1, 0], [-1, 0, 0], [0, 0, 1]]), system.box,
                            species=system.species)
    np.testing.assert_allclose(model.predict(turned, X, device="cpu"), before, atol=1e-5, equal_nan=True)


def test_save_load_and_refusals(trained, tmp_path: Path) -> None:
    model, *_, (held_out, X) = trained
    again = load_graph_model(model.save(tmp_path / "gn.pt"))
    np.testing.assert_array_equal(again.predict(held_out.system, X, device="cpu"),
                                  model.predict(held_out.system, X, device="cpu"))
    assert again.config == model.config and again.details == model.details
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a model file"):
        load_graph_model(tmp_path / "bad.pt")
    torch.save({"format": "matloop-glass-graph-network"}, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="earlier matloop version"):
        load_graph_model(tmp_path / "old.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a matloop glass graph network"):
        load_graph_model(tmp_path / "other.pt")
    flat, X2 = _synthetic(7, dim=2)
    with pytest.raises(ValueError, match="trained on 3D configurations; the system is 2D"):
        model.predict(flat.system, X2)
    with pytest.raises(ValueError, match=r"descriptors must have shape \(400, 3\)"):
        model.predict(held_out.system, X[:, :2])


def test_training_refuses_bad_input() -> None:
    sample, X = _synthetic(0)
    with pytest.raises(ValueError, match="needs a propensity"):
        train_propensity_gn([GlassSample(sample.system)], features=[X], config=CONFIG)
    flat = GlassSample(sample.system, np.ones(sample.system.n_particles))
    with pytest.raises(ValueError, match="same propensity for every A particle"):
        train_propensity_gn([flat], features=[X], config=CONFIG)
    with pytest.raises(ValueError, match="steps must be a whole number"):
        GraphNetworkConfig(steps=-1)
    with pytest.raises(ValueError, match="edge_cutoff"):
        GraphNetworkConfig(edge_cutoff=0.5)


def test_flat_configurations_train_and_predict_in_2d() -> None:
    data = [_synthetic(seed, dim=2) for seed in range(3)]
    model = train_propensity_gn([d[0] for d in data[:2]], features=[d[1] for d in data[:2]], config=CONFIG,
                                device="cpu")
    held_out, X = data[2]
    a = held_out.system.species == "A"
    assert model.dim == 2
    assert np.corrcoef(model.predict(held_out.system, X, device="cpu")[a], held_out.propensity[a])[0, 1] > 0.8


@pytest.mark.skipif(not cuda_available(), reason="no CUDA device")
def test_cuda_training_and_inference_agree_with_cpu(trained) -> None:
    model, samples, features, (held_out, X) = trained
    np.testing.assert_allclose(model.predict(held_out.system, X, device="cuda"),
                               model.predict(held_out.system, X, device="cpu"), atol=1e-4, equal_nan=True)
    on_gpu = train_propensity_gn(samples, features=features, config=CONFIG, device="cuda")
    assert on_gpu.details["device"].startswith("cuda")
    a = held_out.system.species == "A"
    assert np.corrcoef(on_gpu.predict(held_out.system, X, device="cpu")[a], held_out.propensity[a])[0, 1] > 0.9
