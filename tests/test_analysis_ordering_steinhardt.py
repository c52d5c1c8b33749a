"""Steinhardt order, Lechner–Dellago averages and Minkowski metrics against outside values.

References: published values for perfect lattices (Steinhardt, Nelson & Ronchetti 1983; the
list in shared/data/README.md); an independent SciPy/SymPy implementation (k nearest
neighbours by a periodic KD-tree, spherical harmonics from SciPy, Wigner 3j from SymPy); the
analytic Voronoi cell of bcc (truncated octahedron) for the Minkowski metrics; the SANN paper's
neighbour counts.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree
from scipy.special import sph_harm_y
from sympy.physics.wigner import wigner_3j

from engine.analysis.ordering import lattice, liquid, minkowski, neighbor_list, steinhardt
from engine.analysis.ordering.systems import ParticleSystem

# (lattice, neighbour count, l, published value) — shared/data/README.md
PUBLISHED_Q = [
    ("fcc", 12, 4, 0.19094), ("fcc", 12, 6, 0.57452),
    ("hcp", 12, 4, 0.09722), ("hcp", 12, 6, 0.48476),
    ("bcc", 8, 4, 0.50918), ("bcc", 8, 6, 0.62854),
    ("bcc", 14, 6, 0.51069),
    ("sc", 6, 4, 0.76376), ("sc", 6, 6, 0.35355),
]

# Steinhardt et al., Phys. Rev. B 28, 784 (1983), Table I: normalised ŵ_l
PUBLISHED_W = [
    ("fcc", 12, 4, -0.159317), ("fcc", 12, 6, -0.013161),
    ("hcp", 12, 4, 0.134097), ("hcp", 12, 6, -0.012442),
    ("bcc", 14, 4, 0.159317), ("bcc", 14, 6, 0.013161),
]


@pytest.mark.parametrize(("kind", "nn", "l", "value"), PUBLISHED_Q)
def test_perfect_lattices_give_published_q(kind: str, nn: int, l: int, value: float) -> None:
    q = steinhardt(lattice(kind, 4), l, neighbors=nn)
    assert q.shape == (lattice(kind, 4).n_particles, 1)
    np.testing.assert_allclose(q, value, atol=1e-4)


@pytest.mark.parametrize(("kind", "nn", "l", "value"), PUBLISHED_W)
def test_perfect_lattices_give_published_w_hat(kind: str, nn: int, l: int, value: float) -> None:
    np.testing.assert_allclose(steinhardt(lattice(kind, 4), l, neighbors=nn, wl=True), value, atol=1e-4)


@pytest.mark.parametrize(("kind", "nn", "l", "value"), PUBLISHED_Q)
def test_lechner_dellago_average_keeps_the_perfect_lattice_value(
    kind: str, nn: int, l: int, value: float
) -> None:
    """In a perfect lattice every neighbour has the same q_lm, so the average changes nothing."""
    np.testing.assert_allclose(steinhardt(lattice(kind, 3), l, neighbors=nn, average=True), value, atol=1e-4)


# --- independent implementation -------------------------------------------------------------

def _neighbours(system: ParticleSystem, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours (indices, minimum-image vectors) by a periodic SciPy KD-tree."""
    lengths = np.asarray(system.box.L, dtype=float)
    pos = np.mod(system.positions + lengths / 2, lengths)
    _, idx = cKDTree(pos, boxsize=lengths).query(pos, k + 1)
    idx = idx[:, 1:]
    vec = pos[idx] - pos[:, None, :]
    vec -= lengths * np.round(vec / lengths)
    return idx, vec


def _qlm(vec: np.ndarray, l: int) -> np.ndarray:
    """(N, 2l+1) mean spherical harmonics over each particle's bonds, m = -l..l."""
    r = np.linalg.norm(vec, axis=-1)
    theta = np.arccos(np.clip(vec[..., 2] / r, -1, 1))
    phi = np.arctan2(vec[..., 1], vec[..., 0])
    return np.stack([sph_harm_y(l, m, theta, phi).mean(axis=1) for m in range(-l, l + 1)], 1)


def _q(qlm: np.ndarray, l: int) -> np.ndarray:
    return np.sqrt(4 * np.pi / (2 * l + 1) * (np.abs(qlm) ** 2).sum(1))


def _w_hat(qlm: np.ndarray, l: int) -> np.ndarray:
    total = np.zeros(len(qlm), dtype=complex)
    for m1 in range(-l, l + 1):
        for m2 in range(-l, l + 1):
            m3 = -m1 - m2
            if abs(m3) > l:
                continue
            c = float(wigner_3j(l, l, l, m1, m2, m3))
            total += c * qlm[:, m1 + l] * qlm[:, m2 + l] * qlm[:, m3 + l]
    return total.real / ((np.abs(qlm) ** 2).sum(1)) ** 1.5


@pytest.fixture(scope="module")
def noisy_bcc() -> ParticleSystem:
    return lattice("bcc", 4, lindemann=0.08, seed=11)


def test_q_w_and_averages_agree_with_an_independent_implementation(noisy_bcc: ParticleSystem) -> None:
    """Tolerances reflect freud's single precision (relative ~1e-6 on harmonics of order 1)."""
    k = 14
    idx, vec = _neighbours(noisy_bcc, k)
    for l in (4, 6):
        qlm = _qlm(vec, l)
        np.testing.assert_allclose(steinhardt(noisy_bcc, l, neighbors=k)[:, 0], _q(qlm, l), atol=2e-5)
        np.testing.assert_allclose(steinhardt(noisy_bcc, l, neighbors=k, wl=True)[:, 0], _w_hat(qlm, l),
                                   atol=1e-4)  # ŵ divides by (Σ|q_lm|²)^{3/2}: small q4 amplifies
        # Lechner & Dellago (2008) Eq. (6): average over the particle and its neighbours
        qlm_bar = (qlm + qlm[idx].sum(axis=1)) / (k + 1)
        np.testing.assert_allclose(steinhardt(noisy_bcc, l, neighbors=k, average=True)[:, 0],
                                   _q(qlm_bar, l), atol=2e-5)


def test_noise_spreads_q6_and_the_liquid_sits_far_below_the_crystal() -> None:
    q_crystal = steinhardt(lattice("fcc", 5, lindemann=0.05, seed=1), 6)[:, 0]
    q_liquid = steinhardt(liquid(500, np.sqrt(2), seed=1), 6)[:, 0]
    assert 0.45 < q_crystal.mean() < 0.57452
    assert q_liquid.mean() < 0.36
    assert np.percentile(q_liquid, 99) < np.percentile(q_crystal, 1)


# --- Minkowski structure metrics and SANN ---------------------------------------------------

def test_minkowski_metrics_of_bcc_match_the_truncated_octahedron() -> None:
    """bcc Voronoi cell: 8 hexagons (area 3√3/2 e²) towards ⟨111⟩, 6 squares (e²) towards ⟨100⟩."""
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    faces = np.vstack([corners, np.eye(3), -np.eye(3)])
    weights = np.r_[np.full(8, 1.5 * np.sqrt(3)), np.ones(6)]
    for l in (4, 6):
        r = np.linalg.norm(faces, axis=1)
        theta, phi = np.arccos(faces[:, 2] / r), np.arctan2(faces[:, 1], faces[:, 0])
        qlm = np.array([(weights * sph_harm_y(l, m, theta, phi)).sum() / weights.sum()
                        for m in range(-l, l + 1)])
        expected = np.sqrt(4 * np.pi / (2 * l + 1) * (np.abs(qlm) ** 2).sum())
        np.testing.assert_allclose(minkowski(lattice("bcc", 3), l), expected, atol=1e-5)
    # rhombic dodecahedron (fcc): 12 equal faces, so the weighted value is the 12-neighbour one
    np.testing.assert_allclose(minkowski(lattice("fcc", 3), 6), 0.57452, atol=1e-4)


def test_minkowski_metrics_change_continuously_unlike_a_neighbour_count() -> None:
    """Mickel et al. (2013): a tiny displacement barely changes q'_l."""
    base = lattice("bcc", 3)
    moved = lattice("bcc", 3, lindemann=1e-4, seed=3)
    assert np.abs(minkowski(moved, 6) - minkowski(base, 6)).max() < 1e-2


@pytest.mark.parametrize(("kind", "count"), [("fcc", 12), ("hcp", 12), ("bcc", 14), ("sc", 18)])
def test_sann_counts_match_van_meel(kind: str, count: int) -> None:
    nlist = neighbor_list(lattice(kind, 4), "sann")
    assert set(np.asarray(nlist.neighbor_counts)) == {count}


def test_two_dimensional_hexagonal_lattice() -> None:
    """Six in-plane bonds 60° apart, the 3D harmonics evaluated in the z = 0 plane."""
    system = lattice("hexagonal", 5)
    phi = np.arange(6) * np.pi / 3
    for l in (4, 6):
        qlm = np.array([sph_harm_y(l, m, np.full(6, np.pi / 2), phi).mean() for m in range(-l, l + 1)])
        expected = np.sqrt(4 * np.pi / (2 * l + 1) * (np.abs(qlm) ** 2).sum())
        np.testing.assert_allclose(steinhardt(system, l, neighbors=6), expected, atol=1e-5)


# --- bad input ------------------------------------------------------------------------------

def test_more_neighbours_than_particles_is_refused() -> None:
    system = lattice("sc", 2)  # 8 particles
    with pytest.raises(ValueError, match=r"asked for 12 neighbours .* 8 particle\(s\).* N - 1 = 7"):
        steinhardt(system, 6, neighbors=12)


def test_unknown_neighbour_definition_and_bad_l_are_refused() -> None:
    system = lattice("fcc", 2)
    with pytest.raises(ValueError, match="unknown neighbour definition 'delaunay'.*'voronoi' or 'sann'"):
        steinhardt(system, 6, neighbors="delaunay")
    with pytest.raises(ValueError, match="l must be one or more integers >= 0"):
        steinhardt(system, [6, -1])
