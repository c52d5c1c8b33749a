"""Which particles rearrange: p_hop from trajectories and D²min between two configurations.

* **p_hop** (Candelier, Dauchot & Biroli, Phys. Rev. Lett. 102, 088001 (2009); the indicator of
  Smessaert & Rottler, Phys. Rev. E 88, 022314 (2013) and Schoenholz et al., Nat. Phys. 12, 469
  (2016)): with windows A = [t − w, t] and B = [t, t + w] frames (``w`` = t_R / 2),

      p_hop(i, t) = sqrt( ⟨(r_i − ⟨r_i⟩_B)²⟩_A · ⟨(r_i − ⟨r_i⟩_A)²⟩_B ),

  ⟨·⟩_W the mean over the frames of W; length² units; NaN where a window runs off the
  trajectory. A particle that jumps by a at t has p_hop ≈ a² there, one that vibrates with
  variance s² per axis ≈ d s². **Hops** (:func:`detect_hops`): each run of frames with
  p_hop > ``threshold`` is one rearrangement, at the frame of its largest p_hop (default
  threshold 0.2 σ², Schoenholz et al.'s p_c for the Kob–Andersen glass).
* **D²min** (Falk & Langer, Phys. Rev. E 57, 7192 (1998), Eqs. (2.11)–(2.14)): with the vectors
  d_ij(t) = r_j(t) − r_i(t) to the neighbours j of i within ``cutoff`` in the reference
  configuration,

      D²min(i) = min_J Σ_j |d_ij(t1) − J d_ij(t0)|²,   J = X Y⁻¹,
      X = Σ_j d_ij(t1) ⊗ d_ij(t0),  Y = Σ_j d_ij(t0) ⊗ d_ij(t0),

  the residual of the best local affine map (length² units; a sum, not normalised by the
  neighbour count). Reference vectors are minimum images; the later ones add the unwrapped
  displacements, so particles that cross the box between the two times are handled.

Trajectories are unwrapped positions of shape (T, N, d), frames equally spaced.
"""

from __future__ import annotations

import numpy as np

from ..ordering.neighbors import pairs_within
from ..ordering.systems import ParticleSystem

__all__ = ["p_hop", "detect_hops", "d2min"]


def _trajectory(positions: np.ndarray) -> np.ndarray:
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 3 or positions.shape[2] not in (2, 3) or positions.shape[1] < 1:
        raise ValueError(f"a trajectory must have shape (T, N, d) with d = 2 or 3, got {positions.shape}")
    if not np.isfinite(positions).all():
        frames = np.unique(np.argwhere(~np.isfinite(positions))[:, 0])
        raise ValueError(f"the trajectory holds NaN or infinite coordinates (frames {frames[:5].tolist()}); "
                         "all must be finite")
    return positions


def p_hop(positions: np.ndarray, half_window: int) -> np.ndarray:
    """p_hop of every particle at every frame (module notes).

    Parameters
    ----------
    positions : ndarray, shape (T, N, d)
        Unwrapped positions.
    half_window : int
        w ≥ 1 frames (windows of w + 1 frames each, sharing frame t); T ≥ 2w + 1.

    Returns
    -------
    ndarray, shape (T, N)
        NaN for the first and last ``w`` frames.

    Raises
    ------
    ValueError
        A malformed trajectory, NaN coordinates, or a window that does not fit.
    """
    positions = _trajectory(positions)
    w = half_window
    if int(w) != w or w < 1 or len(positions) < 2 * w + 1:
        raise ValueError(f"half_window must be an integer >= 1 with 2 x half_window + 1 <= T = {len(positions)} "
                         f"frames, got {half_window!r}")
    w = int(w)
    out = np.full(positions.shape[:2], np.nan)
    for t in range(w, len(positions) - w):
        a, b = positions[t - w:t + 1], positions[t:t + w + 1]
        mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
        spread_a = np.mean(np.sum((a - mean_b) ** 2, axis=2), axis=0)
        spread_b = np.mean(np.sum((b - mean_a) ** 2, axis=2), axis=0)
        out[t] = np.sqrt(spread_a * spread_b)
    return out


def detect_hops(phop: np.ndarray, threshold: float = 0.2) -> np.ndarray:
    """Rearrangement events: (frame, particle) at the peak of each run above ``threshold``.

    Parameters
    ----------
    phop : ndarray, shape (T, N)
        From :func:`p_hop` (NaN frames count as below the threshold).
    threshold : float, default 0.2
        p_c (length², > 0).

    Returns
    -------
    ndarray of int, shape (E, 2)
        Frame and particle of each event, sorted by particle then frame.
    """
    phop = np.asarray(phop, dtype=float)
    if phop.ndim != 2:
        raise ValueError(f"phop must have shape (T, N), got {phop.shape}")
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold!r}")
    above = np.nan_to_num(phop, nan=-np.inf) > threshold
    events = []
    for particle in np.flatnonzero(above.any(axis=0)):
        flags = np.r_[False, above[:, particle], False].astype(np.int8)
        starts, ends = np.flatnonzero(np.diff(flags) == 1), np.flatnonzero(np.diff(flags) == -1)
        for s, e in zip(starts, ends):
            events.append((s + int(np.argmax(phop[s:e, particle])), particle))
    return np.array(sorted(events, key=lambda ev: (ev[1], ev[0])), dtype=int).reshape(-1, 2)


def d2min(reference: ParticleSystem, later: np.ndarray, cutoff: float,
          reference_unwrapped: np.ndarray | None = None) -> np.ndarray:
    """Falk–Langer D²min of every particle between two times (module notes).

    Parameters
    ----------
    reference : ParticleSystem
        Configuration at t0 (its box gives the minimum images).
    later : ndarray, shape (N, d)
        Unwrapped positions at t1.
    cutoff : float
        Neighbour radius at t0 (length units; below half the shortest periodic box length).
    reference_unwrapped : ndarray, shape (N, d), optional
        Unwrapped positions at t0 matching ``later``; default the reference's own positions
        (then ``later`` must be unwrapped from them).

    Returns
    -------
    ndarray, shape (N,)
        NaN where a particle has fewer than d neighbours (no affine map is defined).

    Raises
    ------
    ValueError
        Shapes that do not match, NaN, or a cutoff too long for the box.
    """
    start = reference.positions if reference_unwrapped is None else np.asarray(reference_unwrapped, dtype=float)
    later = np.asarray(later, dtype=float)
    if later.shape != reference.positions.shape or start.shape != later.shape:
        raise ValueError(f"later (and reference_unwrapped) positions must have shape {reference.positions.shape}, "
                         f"got {later.shape} and {start.shape}")
    if not (np.isfinite(later).all() and np.isfinite(start).all()):
        raise ValueError("positions hold NaN or infinite values; all must be finite")
    lengths = np.asarray(reference.box.L[: reference.dim], dtype=float)[list(reference.periodic)]
    if not cutoff > 0 or (len(lengths) and cutoff >= lengths.min() / 2):
        raise ValueError(f"cutoff must be > 0 and below half the shortest periodic box length, got {cutoff!r}")
    i, j, d0, _ = pairs_within(reference, cutoff)
    displacement = later - start
    d1 = d0 + displacement[j] - displacement[i]
    n, dim = reference.n_particles, reference.dim
    X = np.zeros((n, dim, dim))
    Y = np.zeros((n, dim, dim))
    np.add.at(X, i, np.einsum("pa,pb->pab", d1, d0))
    np.add.at(Y, i, np.einsum("pa,pb->pab", d0, d0))
    counts = np.bincount(i, minlength=n)
    ok = counts >= dim
    ok[ok] = np.abs(np.linalg.det(Y[ok])) > 1e-12 * np.einsum("nii->n", Y[ok]) ** dim
    J = np.zeros_like(X)
    J[ok] = np.linalg.solve(Y[ok].transpose(0, 2, 1), X[ok].transpose(0, 2, 1)).transpose(0, 2, 1)  # X Y^-1
    residual = d1 - np.einsum("pab,pb->pa", J[i], d0)
    out = np.bincount(i, weights=np.sum(residual ** 2, axis=1), minlength=n)
    out[~ok] = np.nan
    return out
