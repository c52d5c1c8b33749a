"""Per-particle diffraction images against reciprocal-lattice theory and a direct evaluation.

* Bragg condition: in the box frame, the kz = 0 slice of perfect fcc (unit nearest-neighbour
  distance, a = √2) peaks at the reciprocal lattice vectors (2π/a)(h, k, 0) with h, k both
  even — (200) at |k| = 4π/a = 8.886, (220) at 12.566 — and nowhere else; bcc (a = 2/√3) at
  (110)-type vectors, |k| = 2π√2/a = 7.695, including the diagonals.
* The intensity equals a direct sum ``|Σ_j w_j exp(−i k·r_j)|²`` over a minimum-image
  neighbour search written here in plain NumPy, at every pixel of one image.
* The local-frame image does not change when the whole sample is rotated (an isolated, noisy
  fcc cluster rotated at random).
"""

from __future__ import annotations

import math

import freud
import numpy as np
import pytest

from engine.analysis.ordering import ParticleSystem, lattice
from engine.analysis.ordering.diffraction import (
    DiffractionSettings, diffraction_images, k_grid, local_frames, random_rotations,
)


def _peaks(image: np.ndarray, k: np.ndarray, k_min: float) -> np.ndarray:
    """k vectors of the local maxima of one channel (log intensity) outside |k| < k_min."""
    kx, ky = np.meshgrid(k, k, indexing="ij")
    padded = np.pad(image, 1, constant_values=-np.inf)
    neighbours = np.stack([padded[1 + dx:1 + dx + image.shape[0], 1 + dy:1 + dy + image.shape[1]]
                           for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy])
    peak = (image > neighbours.max(axis=0)) & (np.hypot(kx, ky) > k_min) & (image > 1.0)
    return np.column_stack([kx[peak], ky[peak]])


@pytest.mark.parametrize("kind", ["fcc", "bcc"])
def test_box_frame_pattern_peaks_at_the_reciprocal_lattice(kind: str) -> None:
    system = lattice(kind, 6)
    settings = DiffractionSettings(pixels=57)  # pixel 0.5 wide in k
    image = diffraction_images(system, settings, frame="box", length_scale=1.0,
                               particles=np.array([0]))[0, 0]  # channel 0: the kz = 0 slice
    k = k_grid(settings)
    a = math.sqrt(2.0) if kind == "fcc" else 2 / math.sqrt(3.0)
    hk = np.array([(h, l) for h in range(-4, 5) for l in range(-4, 5)])
    if kind == "fcc":
        allowed = hk[(hk[:, 0] % 2 == 0) & (hk[:, 1] % 2 == 0)]  # (h, k, 0): h, k even
    else:
        allowed = hk[(hk.sum(axis=1) % 2 == 0)]  # h + k + 0 even
    reciprocal = 2 * math.pi / a * allowed
    reciprocal = reciprocal[(np.linalg.norm(reciprocal, axis=1) > 4)
                            & (np.abs(reciprocal).max(axis=1) < settings.k_max - 0.5)]
    found = _peaks(image, k, k_min=4.0)
    step = k[1] - k[0]
    # every peak sits on a reciprocal lattice vector, and every such vector has a peak
    to_lattice = np.min(np.linalg.norm(found[:, None] - reciprocal[None], axis=2), axis=1)
    to_peak = np.min(np.linalg.norm(reciprocal[:, None] - found[None], axis=2), axis=1)
    assert to_lattice.max() <= step and to_peak.max() <= step
    assert len(found) == len(reciprocal)


def test_intensity_matches_a_direct_sum() -> None:
    system = lattice("hcp", (7, 4, 4), lindemann=0.08, seed=2)
    settings = DiffractionSettings(pixels=16, directions=[(1.0, 2.0, 0.5)])
    scale = 0.97
    ours = diffraction_images(system, settings, frame="box", length_scale=scale)
    lengths = np.asarray(system.box.L, dtype=float)
    k = k_grid(settings)
    n = np.array([1.0, 2.0, 0.5]) / np.linalg.norm([1.0, 2.0, 0.5])
    helper = np.array([1.0, 0.0, 0.0])
    u = np.cross(n, helper)
    u /= np.linalg.norm(u)
    t = np.cross(n, u)
    for p in (0, 17, 200):
        d = system.positions - system.positions[p]
        d -= lengths * np.round(d / lengths)
        d /= scale
        r = np.linalg.norm(d, axis=1)
        inside = r < settings.radius  # includes the particle itself (r = 0, weight 1)
        w = np.exp(-r[inside] ** 2 / (2 * settings.window ** 2))
        kvec = k[:, None, None] * u + k[None, :, None] * t  # (P, P, 3)
        amplitude = np.exp(-1j * kvec @ d[inside].T) @ w
        intensity = np.abs(amplitude) ** 2 / np.sum(w ** 2)
        intensity *= np.exp(-settings.atom_sigma ** 2 * np.sum(kvec ** 2, axis=2))
        np.testing.assert_allclose(ours[p, 0], np.log1p(intensity), rtol=1e-4, atol=1e-5)


def test_local_frame_images_do_not_change_when_the_sample_rotates() -> None:
    sites = lattice("fcc", 6, lindemann=0.03, seed=4).positions
    cluster = sites[np.linalg.norm(sites, axis=1) < 4.0]
    cluster = cluster - cluster[np.argmin(np.linalg.norm(cluster, axis=1))]
    box = freud.box.Box.cube(20.0)
    box.periodic = [False, False, False]
    rotation = random_rotations(1, 9)[0]
    plain = ParticleSystem(cluster, box)
    turned = ParticleSystem(cluster @ rotation.T, box)
    centre = int(np.argmin(np.linalg.norm(cluster, axis=1)))
    a = diffraction_images(plain, length_scale=1.0)[centre]
    b = diffraction_images(turned, length_scale=1.0)[centre]
    np.testing.assert_allclose(a, b, atol=2e-4)
    box_a = diffraction_images(plain, length_scale=1.0, frame="box")[centre]
    box_b = diffraction_images(turned, length_scale=1.0, frame="box")[centre]
    assert np.abs(box_a - box_b).max() > 0.5  # the box frame does see the rotation


def test_local_frames_are_rotations() -> None:
    vectors = np.random.default_rng(0).normal(size=(50, 20, 3))
    frames = local_frames(vectors, np.ones((50, 20), bool))
    np.testing.assert_allclose(frames @ frames.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (50, 3, 3)),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(frames), 1.0)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="need a 3D system"):
        diffraction_images(lattice("hexagonal", 8))
    with pytest.raises(ValueError, match="pixels must be an integer >= 4"):
        DiffractionSettings(pixels=2)
    with pytest.raises(ValueError, match="window must be a finite number > 0"):
        DiffractionSettings(window=float("nan"))
    with pytest.raises(ValueError, match="directions must be one or more non-zero 3-vectors"):
        DiffractionSettings(directions=[(0, 0, 0)])
    with pytest.raises(ValueError, match="is not allowed"):
        diffraction_images(lattice("fcc", 3))  # region radius beyond half the box
    with pytest.raises(ValueError, match="frame must be 'local' or 'box'"):
        diffraction_images(lattice("fcc", 5), frame="lab")
    with pytest.raises(ValueError, match=r"particles must be a non-empty 1D array of indices in \[0, 500\)"):
        diffraction_images(lattice("fcc", 5), particles=np.array([3, 500]))
    with pytest.raises(ValueError, match="length_scale must be a finite number > 0"):
        diffraction_images(lattice("fcc", 5), length_scale=-1.0)
