"""Behler–Parrinello G2/G4 against a plain-NumPy brute force; invariances; shell counts.

The brute force loops over i, j (and k > j) in Python with the minimum-image convention
written out for an orthorhombic box; it shares no code with the package. Shell counts are
checked against the textbook coordination shells of perfect lattices.
"""

from __future__ import annotations

import math

import freud
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine.analysis.ordering import g2, g4, lattice, liquid, shell_counts
from engine.analysis.ordering.systems import ParticleSystem

ETA = np.array([0.5, 1.0, 2.0, 0.0])
R_S = np.array([0.0, 1.0, 1.3, 0.5])
ZETA = np.array([1.0, 2.0, 4.0, 1.5])
LAM = np.array([1.0, -1.0, 1.0, -1.0])


def _fc(r: float, rc: float) -> float:
    return 0.5 * (math.cos(math.pi * r / rc) + 1.0) if r < rc else 0.0


def _brute_force(pos: np.ndarray, lengths: np.ndarray, periodic: bool, rc: float):
    """Reference G2 (each j) and G4 (each unordered pair j < k), by explicit loops."""
    n = len(pos)

    def sep(a: int, b: int) -> np.ndarray:
        d = pos[b] - pos[a]
        if periodic:
            d = d - lengths * np.round(d / lengths)
        return d

    out2 = np.zeros((n, len(ETA)))
    out4 = np.zeros((n, len(ETA)))
    for i in range(n):
        neigh = []
        for j in range(n):
            if j == i:
                continue
            rij = float(np.sqrt(np.sum(sep(i, j) ** 2)))
            if rij < rc:
                neigh.append(j)
                for p in range(len(ETA)):
                    out2[i, p] += math.exp(-ETA[p] * (rij - R_S[p]) ** 2) * _fc(rij, rc)
        for a in range(len(neigh)):
            for b in range(a + 1, len(neigh)):
                j, k = neigh[a], neigh[b]
                dij, dik, djk = sep(i, j), sep(i, k), sep(j, k)
                rij, rik, rjk = (float(np.sqrt(np.sum(v ** 2))) for v in (dij, dik, djk))
                cos = float(np.dot(dij, dik)) / (rij * rik)
                for p in range(len(ETA)):
                    out4[i, p] += (2.0 ** (1 - ZETA[p]) * max(1 + LAM[p] * cos, 0.0) ** ZETA[p]
                                   * math.exp(-ETA[p] * (rij ** 2 + rik ** 2 + rjk ** 2))
                                   * _fc(rij, rc) * _fc(rik, rc) * _fc(rjk, rc))
    return out2, out4


@pytest.mark.parametrize("dim", [3, 2])
def test_g2_g4_match_a_brute_force_loop(dim: int) -> None:
    """r_cut below L/4, so the brute force's own minimum image of j–k is the right one."""
    system = liquid(60 if dim == 3 else 50, 0.9, dim=dim, seed=5)
    lengths = np.asarray(system.box.L, dtype=float)[:dim]
    rc = 0.99 * lengths.min() / 4
    ref2, ref4 = _brute_force(system.positions, lengths, True, rc)
    assert (ref4 > 0).any()
    np.testing.assert_allclose(g2(system, ETA, R_S, rc), ref2, rtol=0, atol=1e-10)
    np.testing.assert_allclose(g4(system, ETA, ZETA, LAM, rc), ref4, rtol=0, atol=1e-10)


@pytest.fixture(scope="module")
def cluster() -> ParticleSystem:
    """A disordered 3D cluster in a large non-periodic box (rotations leave it in the box)."""
    rng = np.random.default_rng(8)
    blob = liquid(120, 1.0, seed=8).positions
    blob = blob[np.linalg.norm(blob, axis=1) < 2.4]
    box = freud.box.Box.cube(20.0)
    box.periodic = [False] * 3
    order = rng.permutation(len(blob))
    return ParticleSystem(blob[order], box)


def _descriptors(system: ParticleSystem) -> np.ndarray:
    return np.hstack([g2(system, ETA, R_S, 2.0), g4(system, ETA, ZETA, LAM, 2.0)])


def test_non_periodic_cluster_matches_brute_force(cluster: ParticleSystem) -> None:
    ref2, ref4 = _brute_force(cluster.positions, np.full(3, 20.0), False, 2.0)
    np.testing.assert_allclose(_descriptors(cluster), np.hstack([ref2, ref4]), rtol=0, atol=1e-10)


def test_symmetry_functions_are_invariant(cluster: ParticleSystem) -> None:
    base = _descriptors(cluster)
    rotation = Rotation.random(random_state=4).as_matrix()
    rotated = ParticleSystem(cluster.positions @ rotation.T, cluster.box)
    np.testing.assert_allclose(_descriptors(rotated), base, rtol=0, atol=1e-10)
    shifted = ParticleSystem(cluster.positions + np.array([3.1, -2.7, 4.2]), cluster.box)
    np.testing.assert_allclose(_descriptors(shifted), base, rtol=0, atol=1e-10)
    perm = np.random.default_rng(2).permutation(cluster.n_particles)
    np.testing.assert_allclose(_descriptors(cluster.subset(perm)), base[perm], rtol=0, atol=1e-10)


def test_periodic_translation_changes_nothing() -> None:
    system = lattice("hcp", 4, lindemann=0.07, seed=9)
    shifted = ParticleSystem(system.positions + np.array([1.7, 0.4, -2.9]), system.box)
    a = np.hstack([g2(system, ETA, R_S, 1.9), g4(system, ETA, ZETA, LAM, 1.9)])
    b = np.hstack([g2(shifted, ETA, R_S, 1.9), g4(shifted, ETA, ZETA, LAM, 1.9)])
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)


def test_g4_chunking_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.analysis.ordering.symmetry_functions as sf

    system = lattice("fcc", 3, lindemann=0.05, seed=1)
    whole = g4(system, ETA, ZETA, LAM, 1.45)
    monkeypatch.setattr(sf, "MAX_TRIPLETS", 100)
    np.testing.assert_allclose(g4(system, ETA, ZETA, LAM, 1.45), whole, rtol=0, atol=1e-12)


def test_bad_symmetry_function_parameters_are_refused() -> None:
    system = lattice("fcc", 2)  # box length 2.83
    with pytest.raises(ValueError, match=r"below half the shortest periodic box length \(1.41"):
        g2(system, 1.0, 0.0, 2.0)
    with pytest.raises(ValueError, match="lam must be \\+1 or -1"):
        g4(system, 1.0, 1.0, 0.5, 1.2)
    with pytest.raises(ValueError, match="zeta must be >= 1"):
        g4(system, 1.0, 0.5, 1.0, 1.2)
    with pytest.raises(ValueError, match="equal lengths"):
        g2(system, [1.0, 2.0], [0.0, 1.0, 2.0], 1.2)


# --- shell counts ---------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "edges", "counts"), [
    ("fcc", [0.5, 1.2, 1.5, 1.8, 2.1], [12, 6, 24, 12]),             # 1, √2, √3, 2
    ("bcc", [0.5, 1.1, 1.4, 1.8, 1.95], [8, 6, 12, 24]),             # 1, 1.155, 1.633, 1.915
    ("sc", [0.5, 1.2, 1.5, 1.8, 2.1], [6, 12, 8, 6]),                # 1, √2, √3, 2
    ("hexagonal", [0.5, 1.2, 1.8, 2.1], [6, 6, 6]),                  # 1, √3, 2
])
def test_shell_counts_of_perfect_lattices(kind: str, edges: list[float], counts: list[int]) -> None:
    system = lattice(kind, 5)
    result = shell_counts(system, np.array(edges))
    assert result.shape == (system.n_particles, len(counts))
    assert (result == counts).all()


def test_relative_shells_do_not_depend_on_the_density() -> None:
    edges = np.array([0.5, 1.2, 1.5, 1.8])
    small = shell_counts(lattice("fcc", 4, lindemann=0.04, seed=3), edges, relative=True)
    big = shell_counts(lattice("fcc", 4, nn_distance=2.5, lindemann=0.04, seed=3), edges, relative=True)
    assert (small == big).all()


def test_bad_shell_edges_are_refused() -> None:
    with pytest.raises(ValueError, match="edges must be at least two increasing finite numbers"):
        shell_counts(lattice("sc", 3), np.array([1.0, 0.5]))


def test_triclinic_box_matches_a_brute_force_over_images() -> None:
    """Each neighbour's nearest image found by trying all 27 shifts of the box vectors."""
    box = freud.box.Box(5.0, 5.5, 6.0, 0.3, 0.1, 0.2)
    matrix = np.asarray(box.to_matrix(), dtype=float)
    pos = np.random.default_rng(12).uniform(-0.5, 0.5, (45, 3)) @ matrix.T
    system = ParticleSystem(pos, box)
    pos = system.positions
    shifts = np.array([[a, b, c] for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)])
    images = shifts @ matrix.T
    rc = 1.6
    ref2, ref4 = np.zeros((len(pos), len(ETA))), np.zeros((len(pos), len(ETA)))
    for i in range(len(pos)):
        near = []
        for j in range(len(pos)):
            if j != i:
                candidates = pos[j] - pos[i] + images
                d = candidates[np.argmin(np.linalg.norm(candidates, axis=1))]
                if np.linalg.norm(d) < rc:
                    near.append(d)
        for d in near:
            r = np.linalg.norm(d)
            ref2[i] += np.exp(-ETA * (r - R_S) ** 2) * _fc(r, rc)
        for a in range(len(near)):
            for b in range(a + 1, len(near)):
                dij, dik = near[a], near[b]
                rij, rik, rjk = (np.linalg.norm(v) for v in (dij, dik, dik - dij))
                cos = dij @ dik / (rij * rik)
                ref4[i] += (2.0 ** (1 - ZETA) * np.clip(1 + LAM * cos, 0, None) ** ZETA
                            * np.exp(-ETA * (rij ** 2 + rik ** 2 + rjk ** 2))
                            * _fc(rij, rc) * _fc(rik, rc) * _fc(rjk, rc))
    assert (ref4 > 0).any()
    np.testing.assert_allclose(g2(system, ETA, R_S, rc), ref2, rtol=0, atol=1e-10)
    np.testing.assert_allclose(g4(system, ETA, ZETA, LAM, rc), ref4, rtol=0, atol=1e-10)
