"""Simulated diffraction images of the region around each particle (after Ziletti et al. 2018).

Ziletti, Kumar, Scheffler & Ghiringhelli, Nat. Commun. 9, 2775 (2018) describe a crystal by
the two-dimensional diffraction pattern of a whole structure: atoms as Gaussians, a plane wave
along a fixed axis, the intensity ``|F(k)|²`` on a detector, computed for the structure in
several orientations and stacked as the colour channels of one image, which a CNN classifies.
They classify one region (a supercell) at a time, in the frame it comes in.

Our variant, for per-particle labels (the choice, and why):

* **Region.** The region of particle i is every particle within ``radius`` of it (i included),
  weighted by a Gaussian window ``w(r) = exp(−r² / (2 window²))`` that fades it out smoothly, so
  that the sharp edge of a cut-out sphere does not ring in the pattern. ``window = 1`` and
  ``radius = 3 window`` (units of the length scale below) take in ~3 neighbour shells: enough
  for Bragg-like peaks of width ~1/window, local enough to label one particle.
* **Pattern.** Kinematic (single-scattering) intensity of Gaussian atoms of width ``atom_sigma``::

      I(k) = exp(−atom_sigma² |k|²) · |Σ_j w_j exp(−i k·r_j)|² / Σ_j w_j²

  (dimensionless; the division makes a structureless region tend to 1 at large k, the
  normalisation of a structure factor S(k)). By the projection-slice theorem the pattern of the
  density projected along a unit vector n is the slice ``k ⊥ n`` of the 3D transform — the
  flat-Ewald-sphere limit that Ziletti et al. use. One channel per projection direction:
  the three box axes z, x, y by default (Ziletti et al. stack three orientations, too).
* **Grid.** A fixed ``pixels × pixels`` grid of k over ``[−k_max, k_max]²`` in each slice plane,
  k in units of 1 / length scale; ``k_max = 14`` includes the first two rings of fcc, hcp and
  bcc reflections (|k| = 7.7, 8.9, 12.6 for fcc with unit nearest-neighbour distance). The
  channels hold ``log(1 + I)`` to compress the forward peak.
* **Frame.** Ziletti et al. take each region in the frame it comes in (``frame="box"`` here)
  and their network learns the orientations it was shown. For per-particle labels of crystals
  in arbitrary orientations that asks a small CNN to learn all of SO(3) from 3 slices of
  reciprocal space: measured here with a first version of :mod:`.diffraction_cnn` (convolution
  widths 16, 32, 64; 2000 images in random orientations; 10 epochs), box-frame images gave
  fcc 0 %, bcc 18 %, hcp 100 %, liquid 99.8 % on rotated crystals at Lindemann 0.05, where the
  local frame below gives 100 % for all four with a smaller network. The default ``frame="local"`` therefore turns each region into a frame fixed by its
  own bonds before the pattern is taken (:func:`local_frames`: z along the nearest neighbour,
  x towards the neighbour, among the 12 nearest, at the smallest angle to it, beyond 20°). The
  pattern is then the same for any orientation of the sample, up to the few frames that the
  crystal's point group makes equivalent, which the classifier learns. This frame is our
  choice, not part of Ziletti et al.'s method. ``rotations`` applies one rotation per
  particle (or one for all) before the frame is found; training data get random ones
  (:func:`random_rotations`), so that the invariance is tested, not assumed.
* **Length scale.** Coordinates are divided by ``length_scale`` (default: the nearest-neighbour
  distance fcc would have at the system's number density, ``(√2 / ρ)^{1/3}``; 1.00 for fcc and
  1.03 for bcc with unit nearest-neighbour distance), so that one trained classifier serves any
  density. Give it explicitly for a non-periodic box, whose volume is not the sample's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from .neighbors import ball_pairs, max_cutoff, pair_geometry
from .systems import ParticleSystem

__all__ = [
    "DIRECTIONS",
    "DiffractionSettings",
    "default_length_scale",
    "diffraction_images",
    "k_grid",
    "local_frames",
    "pattern_from_vectors",
    "random_rotations",
    "region_vectors",
]

#: Default projection directions (one image channel each): z, x, y.
DIRECTIONS: tuple[tuple[float, float, float], ...] = ((0, 0, 1), (1, 0, 0), (0, 1, 0))

_CHUNK = 512  # particles per block of the transform


class DiffractionSettings:
    """Settings of the diffraction images (module notes for their meaning and defaults).

    Parameters
    ----------
    pixels : int, default 32
        Image side (pixels ≥ 4).
    k_max : float, default 14
        Half-width of the k grid (1 / length scale).
    window : float, default 1.0
        Width of the Gaussian window on the region (length scale units).
    radius : float, optional
        Region radius (length scale units), default ``3 window``.
    atom_sigma : float, default 0.1
        Width of the Gaussian atoms (length scale units).
    directions : sequence of 3-vectors, default :data:`DIRECTIONS`
        Projection directions, one channel each (normalised here).
    """

    def __init__(
        self,
        pixels: int = 32,
        k_max: float = 14.0,
        window: float = 1.0,
        radius: float | None = None,
        atom_sigma: float = 0.1,
        directions: Sequence[Sequence[float]] = DIRECTIONS,
    ) -> None:
        if int(pixels) != pixels or pixels < 4:
            raise ValueError(f"pixels must be an integer >= 4, got {pixels!r}")
        for name, value in (("k_max", k_max), ("window", window), ("atom_sigma", atom_sigma)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        radius = 3.0 * window if radius is None else radius
        if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
            raise ValueError(f"radius must be a finite number > 0, got {radius!r}")
        dirs = np.asarray(directions, dtype=float)
        if dirs.ndim != 2 or dirs.shape[1] != 3 or len(dirs) < 1 or not np.isfinite(dirs).all() \
                or (np.linalg.norm(dirs, axis=1) == 0).any():
            raise ValueError(
                f"directions must be one or more non-zero 3-vectors, got {directions!r}"
            )
        self.pixels = int(pixels)
        self.k_max = float(k_max)
        self.window = float(window)
        self.radius = float(radius)
        self.atom_sigma = float(atom_sigma)
        self.directions = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)

    def as_dict(self) -> dict[str, object]:
        """Plain values (for provenance next to saved weights)."""
        return {"pixels": self.pixels, "k_max": self.k_max, "window": self.window,
                "radius": self.radius, "atom_sigma": self.atom_sigma,
                "directions": self.directions.tolist()}


def k_grid(settings: DiffractionSettings) -> np.ndarray:
    """The k values along each image axis, shape (pixels,), symmetric about 0 (1 / length)."""
    return np.linspace(-settings.k_max, settings.k_max, settings.pixels)


def _plane_axes(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane normal to ``direction`` (right-handed with it)."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(direction[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(direction, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(direction, u)


def random_rotations(n: int, seed: int | np.random.Generator | None) -> np.ndarray:
    """``n`` rotation matrices drawn uniformly from SO(3), shape (n, 3, 3), seeded."""
    rng = np.random.default_rng(seed)
    return Rotation.random(int(n), random_state=rng).as_matrix()


def local_frames(vectors: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Rotation into the frame fixed by each region's own bonds (module notes).

    Parameters
    ----------
    vectors : ndarray, shape (N, M, 3)
        Region particles relative to the centre (any length unit).
    valid : ndarray of bool, shape (N, M)
        Which slots hold a particle; each region needs at least 2.

    Returns
    -------
    ndarray, shape (N, 3, 3)
        Rows x̂, ŷ, ẑ of the local frame: ẑ along the nearest neighbour, x̂ the part normal to ẑ
        of the neighbour (among the 12 nearest) at the smallest angle above 20° to ẑ,
        ŷ = ẑ × x̂. ``frame @ v`` gives a vector in local coordinates.
    """
    dist = np.where(valid, np.linalg.norm(vectors, axis=2), np.inf)
    if (np.isinf(dist).sum(axis=1) > dist.shape[1] - 2).any():
        raise ValueError("every region needs at least 2 particles besides its centre for a frame")
    order = np.argsort(dist, axis=1)[:, :13]
    rows = np.arange(len(vectors))[:, None]
    near = vectors[rows, order]  # (N, ≤13, 3), nearest first
    near_ok = np.isfinite(dist[rows, order])
    z = near[:, 0] / np.linalg.norm(near[:, 0], axis=1, keepdims=True)
    cosine = np.einsum("nkd,nd->nk", near[:, 1:], z) / np.linalg.norm(
        np.where(near_ok[:, 1:, None], near[:, 1:], 1.0), axis=2)
    cosine = np.where(near_ok[:, 1:] & (cosine < np.cos(np.radians(20.0))), cosine, -np.inf)
    pick = np.argmax(cosine, axis=1)
    other = near[np.arange(len(vectors)), pick + 1]
    x = other - np.einsum("nd,nd->n", other, z)[:, None] * z
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    fallback = np.where(np.abs(z[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    x = np.where(norm > 1e-9, x / np.maximum(norm, 1e-12), np.cross(z, fallback))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.stack([x, np.cross(z, x), z], axis=1)


def region_vectors(
    system: ParticleSystem, radius: float, length_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Separation vectors of every particle's region, padded, in length-scale units.

    Parameters
    ----------
    system : ParticleSystem
        3D particles.
    radius : float
        Region radius in length-scale units.
    length_scale : float
        Length unit of the result (length units of the data).

    Returns
    -------
    vectors : ndarray, shape (N, M, 3)
        ``(r_j − r_i) / length_scale`` for the particles j ≠ i within ``radius``; zeros in
        padded slots. M is the largest region size.
    valid : ndarray of bool, shape (N, M)
        Which slots hold a particle.
    """
    i, _, vec, dist = pair_geometry(system, ball_pairs(system, radius * length_scale))
    keep = dist < radius * length_scale
    i, vec = i[keep], vec[keep] / length_scale
    n = system.n_particles
    counts = np.bincount(i, minlength=n)
    m = max(int(counts.max(initial=0)), 1)
    order = np.argsort(i, kind="stable")
    i, vec = i[order], vec[order]
    slot = np.arange(i.size) - np.repeat(np.cumsum(counts) - counts, counts)
    vectors = np.zeros((n, m, 3))
    valid = np.zeros((n, m), dtype=bool)
    vectors[i, slot] = vec
    valid[i, slot] = True
    return vectors, valid


def pattern_from_vectors(
    vectors: np.ndarray,
    valid: np.ndarray,
    settings: DiffractionSettings | None = None,
    rotations: np.ndarray | None = None,
    frame: str = "local",
) -> np.ndarray:
    """Diffraction images of regions given as separation vectors (module notes).

    Parameters
    ----------
    vectors : ndarray, shape (N, M, 3)
        Positions of the region's particles relative to its centre (length-scale units); the
        centre particle itself is added here.
    valid : ndarray of bool, shape (N, M)
        Which slots hold a particle.
    settings : DiffractionSettings, optional
        Image settings (defaults if omitted).
    rotations : ndarray, shape (3, 3) or (N, 3, 3), optional
        Rotation applied to each region before its frame is found.
    frame : {"local", "box"}, default "local"
        Take the pattern in each region's bond frame (:func:`local_frames`) or as given.

    Returns
    -------
    ndarray of float32, shape (N, C, pixels, pixels)
        ``log(1 + I)`` per channel (projection direction), image axes along the two in-plane
        vectors of each direction, k from −k_max to k_max.
    """
    settings = DiffractionSettings() if settings is None else settings
    vectors = np.asarray(vectors, dtype=float)
    valid = np.asarray(valid, dtype=bool)
    if vectors.ndim != 3 or vectors.shape[2] != 3 or valid.shape != vectors.shape[:2]:
        raise ValueError(
            f"vectors must have shape (N, M, 3) and valid (N, M); got {vectors.shape} and "
            f"{valid.shape}"
        )
    n = len(vectors)
    if frame not in ("local", "box"):
        raise ValueError(f"frame must be 'local' or 'box', got {frame!r}")
    if rotations is not None:
        rotations = np.asarray(rotations, dtype=float)
        if rotations.shape == (3, 3):
            rotations = np.broadcast_to(rotations, (n, 3, 3))
        if rotations.shape != (n, 3, 3):
            raise ValueError(f"rotations must have shape (3, 3) or ({n}, 3, 3), got {rotations.shape}")
    k = k_grid(settings)
    form = np.exp(-(settings.atom_sigma ** 2) * (k[:, None] ** 2 + k[None, :] ** 2))
    out = np.empty((n, len(settings.directions), settings.pixels, settings.pixels), np.float32)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        v = vectors[start:stop]
        if rotations is not None:
            v = np.einsum("nab,nmb->nma", rotations[start:stop], v)
        if frame == "local":
            v = np.einsum("nab,nmb->nma", local_frames(v, valid[start:stop]), v)
        ok = valid[start:stop] & (np.linalg.norm(v, axis=2) < settings.radius)
        # the centre particle (at the origin, weight 1) and the window-weighted region
        v = np.concatenate([np.zeros((len(v), 1, 3)), v], axis=1)
        w = np.concatenate([np.ones((len(v), 1)), np.where(
            ok, np.exp(-np.sum(v[:, 1:] ** 2, axis=2) / (2 * settings.window ** 2)), 0.0)],
            axis=1).astype(np.float32)
        norm = np.sum(w ** 2, axis=1)
        for c, direction in enumerate(settings.directions):
            u, t = _plane_axes(direction)
            # separable phases: exp(-i (k_a u·r + k_b t·r)) = exp(-i k_a u·r) exp(-i k_b t·r),
            # in real single-precision arithmetic (NumPy's batched complex products are ~30x
            # and its double-precision cos/sin ~10x slower; phases |k·r| < 50 keep 1e-5 rad)
            phase_a = ((v @ u)[:, :, None] * k[None, None, :]).astype(np.float32)
            phase_b = ((v @ t)[:, :, None] * k[None, None, :]).astype(np.float32)
            left = np.concatenate([np.cos(phase_a), np.sin(phase_a)], axis=2) * w[:, :, None]
            right = np.concatenate([np.cos(phase_b), np.sin(phase_b)], axis=2)
            blocks = np.einsum("nma,nmb->nab", left, right, optimize=True)
            p = settings.pixels
            real = blocks[:, :p, :p] - blocks[:, p:, p:]  # cos·cos − sin·sin
            imag = blocks[:, :p, p:] + blocks[:, p:, :p]  # −Im: cos·sin + sin·cos
            intensity = (real.astype(float) ** 2 + imag ** 2) / norm[:, None, None] * form
            out[start:stop, c] = np.log1p(intensity)
    return out


def default_length_scale(system: ParticleSystem) -> float:
    """``(√2 / ρ)^{1/3}``: the nearest-neighbour distance of fcc at the system's density."""
    return (math.sqrt(2.0) / system.density) ** (1.0 / 3.0)


def diffraction_images(
    system: ParticleSystem,
    settings: DiffractionSettings | None = None,
    *,
    length_scale: float | None = None,
    rotations: np.ndarray | None = None,
    frame: str = "local",
    particles: np.ndarray | None = None,
) -> np.ndarray:
    """The diffraction image of every particle's region (module notes).

    Parameters
    ----------
    system : ParticleSystem
        3D particles.
    settings : DiffractionSettings, optional
        Image settings (defaults if omitted).
    length_scale : float, optional
        Length unit (length units of the data); default ``(√2 / ρ)^{1/3}``.
    rotations : ndarray, shape (3, 3) or (N, 3, 3), optional
        Rotation of each region (or of all) before its frame is found.
    frame : {"local", "box"}, default "local"
        Each region's bond frame, or the box frame (Ziletti et al.'s choice; module notes).
    particles : ndarray of int, shape (n,), optional
        Only the images of these particles (their regions still see every particle); with
        per-particle ``rotations``, one rotation per selected particle.

    Returns
    -------
    ndarray of float32, shape (N, C, pixels, pixels) or (n, C, pixels, pixels)
        One image per particle, one channel per projection direction; dimensionless
        ``log(1 + I)``.

    Raises
    ------
    ValueError
        A 2D system, a non-positive length scale, or a region radius beyond half the box.
    """
    if system.dim != 3:
        raise ValueError("diffraction images need a 3D system; got a 2D one")
    settings = DiffractionSettings() if settings is None else settings
    scale = default_length_scale(system) if length_scale is None else length_scale
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"length_scale must be a finite number > 0, got {length_scale!r}")
    radius = settings.radius
    limit = max_cutoff(system) / float(scale)
    if limit <= radius < limit * (1 + 1e-3):
        # a box of exactly 2 × radius nearest-neighbour distances (e.g. 3 fcc cells at radius 3):
        # whether the measured scale rounds above or below the limit depends on the length unit,
        # so such a region is imaged just inside the limit (the Gaussian window is ~0 there)
        radius = limit * (1 - 1e-9)
    vectors, valid = region_vectors(system, radius, float(scale))
    if particles is not None:
        particles = np.asarray(particles)
        if particles.ndim != 1 or particles.dtype.kind not in "iu" or particles.size == 0 \
                or particles.min() < 0 or particles.max() >= system.n_particles:
            raise ValueError(
                f"particles must be a non-empty 1D array of indices in [0, {system.n_particles})"
            )
        vectors, valid = vectors[particles], valid[particles]
    return pattern_from_vectors(vectors, valid, settings, rotations, frame)
