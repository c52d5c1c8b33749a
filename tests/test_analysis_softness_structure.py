"""Structure functions (issue 15, must-show 1): equal to a brute-force double/triple loop
(1e-10), invariant to rotation, translation and permutation, and resolved by species."""

from __future__ import annotations

import dataclasses

import freud
import numpy as np
import pytest

from engine.analysis.ordering.systems import ParticleSystem
from engine.analysis.softness.structure_functions import (
    StructureFunctionSet, default_set, structure_functions,
)

#: Box length exactly representable in float32 (freud stores boxes in single precision).
L = 5.25
SMALL = StructureFunctionSet(mu=(0.5, 1.0, 1.5), width=0.2, xi=(1.0, 1.7), lambdas=(-1, 1), zeta=(1, 2),
                             species=("A", "B"), angular_cutoff=1.8)


def _random_system(n: int = 130, seed: int = 0, periodic: bool = True) -> ParticleSystem:
    rng = np.random.default_rng(seed)
    box = freud.box.Box.cube(L)
    box.periodic = [periodic] * 3
    positions = rng.uniform(-L / 2, L / 2, (n, 3)) * (1.0 if periodic else 0.999)
    return ParticleSystem(positions, box, species=np.where(rng.random(n) < 0.3, "B", "A"))


def _brute_force(system: ParticleSystem, p: StructureFunctionSet) -> np.ndarray:
    """Plain loops over j and over unordered pairs {j, k}, minimum image by rounding."""
    pos, n = system.positions, system.n_particles
    periodic = np.array(system.periodic)
    species = [p.species.index(s) for s in system.species]

    def image(d: np.ndarray) -> np.ndarray:
        return np.where(periodic, d - L * np.round(d / L), d)

    out = np.zeros((n, p.n_features))
    n_radial = len(p.species) * len(p.mu)
    for i in range(n):
        near = []
        for j in range(n):
            if j == i:
                continue
            r = np.linalg.norm(image(pos[j] - pos[i]))
            if r < p.radial_cutoff:
                for m, mu in enumerate(p.mu):
                    out[i, species[j] * len(p.mu) + m] += np.exp(-(r - mu) ** 2 / (2 * p.width ** 2))
            if r < p.angular_cutoff:
                near.append(j)
        for a in range(len(near)):
            for b in range(a + 1, len(near)):
                j, k = near[a], near[b]
                vj, vk = image(pos[j] - pos[i]), image(pos[k] - pos[i])
                rij, rik = np.linalg.norm(vj), np.linalg.norm(vk)
                rjk = np.linalg.norm(image(pos[k] - pos[j]))
                cos = vj @ vk / (rij * rik)
                col = n_radial + p.species_pairs.index(tuple(sorted((species[j], species[k])))) * p.n_angular_parameters
                for xi in p.xi:
                    for lam in p.lambdas:
                        for zeta in p.zeta:
                            out[i, col] += np.exp(-(rij ** 2 + rik ** 2 + rjk ** 2) / xi ** 2) * (1 + lam * cos) ** zeta
                            col += 1
    return out


@pytest.mark.parametrize("angular_cutoff", [1.2, 1.8])  # j–k images: direct (2 × 1.2 < L/2) and wrapped
@pytest.mark.parametrize("periodic", [True, False])
def test_structure_functions_equal_the_brute_force_loops(periodic: bool, angular_cutoff: float) -> None:
    system = _random_system(periodic=periodic)
    params = dataclasses.replace(SMALL, angular_cutoff=angular_cutoff)
    ours = structure_functions(system, params)
    reference = _brute_force(system, params)
    assert ours.shape == (system.n_particles, SMALL.n_features) == reference.shape
    assert np.abs(reference).max() > 10  # the sums are not trivially empty
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-10)


def test_invariant_to_rotation_translation_and_permutation() -> None:
    system = _random_system(periodic=False, seed=1)
    base = structure_functions(system, SMALL)
    rotation, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))
    centred = system.positions @ rotation.T * 0.55  # rotated cluster, still inside the box
    box = freud.box.Box.cube(L)
    box.periodic = [False] * 3
    turned = ParticleSystem(centred, box, species=system.species)
    scaled = ParticleSystem(system.positions * 0.55, box, species=system.species)
    np.testing.assert_allclose(structure_functions(turned, SMALL), structure_functions(scaled, SMALL),
                               rtol=1e-10, atol=1e-10)
    order = np.random.default_rng(3).permutation(system.n_particles)
    permuted = ParticleSystem(system.positions[order], system.box, species=system.species[order])
    np.testing.assert_allclose(structure_functions(permuted, SMALL), base[order], atol=1e-12)
    periodic = _random_system(seed=4)
    moved = ParticleSystem(periodic.positions + [1.3, -2.1, 0.7], periodic.box, species=periodic.species)
    np.testing.assert_allclose(structure_functions(moved, SMALL), structure_functions(periodic, SMALL), atol=1e-9)


def test_species_are_respected() -> None:
    """Renaming A ↔ B swaps the radial blocks and the AA/BB angular blocks; AB stays."""
    system = _random_system(seed=5)
    swapped = ParticleSystem(system.positions, system.box,
                             species=np.where(system.species == "A", "B", "A"))
    base, other = structure_functions(system, SMALL), structure_functions(swapped, SMALL)
    m, k = len(SMALL.mu), SMALL.n_angular_parameters
    blocks = {"G_A": slice(0, m), "G_B": slice(m, 2 * m), "AA": slice(2 * m, 2 * m + k),
              "AB": slice(2 * m + k, 2 * m + 2 * k), "BB": slice(2 * m + 2 * k, 2 * m + 3 * k)}
    for a, b in (("G_A", "G_B"), ("AA", "BB"), ("AB", "AB")):
        np.testing.assert_allclose(other[:, blocks[a]], base[:, blocks[b]], atol=1e-12)
    assert not np.allclose(base[:, blocks["G_A"]], base[:, blocks["G_B"]])
    names = SMALL.names()
    assert names[0] == "G_A(mu=0.50)" and names[2 * m + k] == "Psi_AB(xi=1,lambda=-1,zeta=1)"


def test_default_set_has_152_functions_and_bad_input_is_refused() -> None:
    assert default_set().n_features == 152 and len(default_set().names()) == 152
    assert default_set().radial_cutoff == pytest.approx(4.5)
    system = _random_system()
    with pytest.raises(ValueError, match=r"the cutoff 4.5 must be below half the shortest periodic box length \(5.25 / 2"):
        structure_functions(system)
    no_species = ParticleSystem(system.positions, system.box)
    with pytest.raises(ValueError, match="the configuration has no species"):
        structure_functions(no_species, SMALL)
    with pytest.raises(ValueError, match="species C not in the structure-function set; allowed: A, B"):
        structure_functions(ParticleSystem(system.positions, system.box,
                                           species=np.where(system.species == "B", "C", "A")), SMALL)
    with pytest.raises(ValueError, match="lambdas must each be -1 or \\+1"):
        StructureFunctionSet(mu=(1.0,), width=0.1, xi=(1.0,), lambdas=(0.5,), zeta=(1.0,))
    with pytest.raises(ValueError, match="mu must be one or more finite shell positions > 0"):
        StructureFunctionSet(mu=(), width=0.1, xi=(1.0,), lambdas=(1.0,), zeta=(1.0,))
