"""Per-track step statistics: the features that tell populations of tracks apart.

Mellnik et al. 2014 (Soft Matter 10, 7781) and Valentine et al. 2001 (Phys. Rev. E 64, 061506,
"Investigating the microenvironments of inhomogeneous soft materials with multiple particle
tracking") split tracks into groups by statistics of their displacements. Per track:

* ``log10_D`` — log10 of the short-time diffusion coefficient (unit²/s): the line of
  :func:`.diffusion.fit_diffusion` through the first ``fit_lags`` (4) lags for every track. A
  fixed number of lags keeps the feature comparable across tracks (Michalet's optimal number
  jumps with the curvature of a confined track's MSD, which made log D bimodal within one
  trapped population); a D below its own standard error is replaced by that error, so that the
  logarithm stays defined for immobile tracks;
* ``alpha`` — slope of log MSD against log lag over lags 1 … ``decade`` (10), clipped to the
  track: 1 for free diffusion (less when localisation noise dominates the first lags), < 1 for
  confined or subdiffusive motion, > 1 for directed motion;
* ``non_gaussian`` — Rahman's non-Gaussian parameter of the single-frame displacements,
  ``α₂ = d⟨Δr⁴⟩ / ((d + 2)⟨Δr²⟩²) − 1`` (Rahman 1964, Phys. Rev. 136, A405): 0 for Gaussian
  steps, > 0 for heavy tails (hopping, mixed mobilities);
* ``log10_rg_ratio`` — log10 of the radius of gyration of the positions over ``sqrt(4 D T)``
  with the track duration ``T`` (first to last frame): about ``log10 sqrt(d/12)`` = −0.39 for
  free diffusion in 2D (``⟨R_g²⟩ = d D T / 3``), much lower for a confined particle;
* ``confinement_ratio`` — net displacement over path length (TrackMate's "confinement ratio",
  also called straightness): ≈ 1 for directed motion, small for diffusion.

Also reported: ``D``, ``D_err`` (unit²/s), ``n_points``, ``duration`` (s), ``step_rms``
(root-mean-square single-frame step, unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .diffusion import MIN_POINTS, fit_diffusion
from .msd import TrackMSD, scaled_positions, track_msd
from .table import check_tracks

__all__ = ["ALPHA_LAGS", "FEATURES", "track_features"]

#: Lags over which the MSD exponent ``alpha`` is read by default (the first decade).
ALPHA_LAGS = 10
#: Features used to cluster tracks (:func:`.clustering.cluster_tracks`), all dimensionless.
FEATURES = ("log10_D", "alpha", "non_gaussian", "log10_rg_ratio", "confinement_ratio")


def track_features(tracks: pd.DataFrame, frame_interval: float, *, pixel_size: float | None = None,
                   msd: TrackMSD | None = None, decade: int = ALPHA_LAGS, fit_lags: int = 4) -> pd.DataFrame:
    """Step statistics of every track.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Columns ``frame, x, y, particle`` (x, y in px, or any unit when ``pixel_size`` is None).
    frame_interval : float
        Time between frames, s (> 0).
    pixel_size : float or None
        µm per px (as :func:`.msd.track_msd`).
    msd : TrackMSD or None
        The tracks' MSD if already computed (same tracks, units and frame interval).
    decade : int, default 10
        Last lag (frames, ≥ 2) of the log–log fit for ``alpha``.
    fit_lags : int, default 4
        Lags (≥ 2) of the line fit for ``D`` (fewer if a track is shorter).

    Returns
    -------
    pandas.DataFrame
        Index ``particle``; columns of :data:`FEATURES` and ``D, D_err, n_points, duration,
        step_rms``. Tracks with fewer than 5 positions have NaN features.

    Raises
    ------
    ValueError
        Bad tracks or units (as :func:`.msd.track_msd`), ``decade < 2``, ``fit_lags < 2``.
    """
    if isinstance(decade, bool) or int(decade) != decade or decade < 2:
        raise ValueError(f"decade must be an integer >= 2 (frames); got {decade!r}")
    table = check_tracks(tracks, require_particle=True)
    if msd is None:
        msd = track_msd(table, frame_interval, pixel_size=pixel_size)
    fit = fit_diffusion(msd, n_fit=fit_lags)
    ids, start, n_points = np.unique(table["particle"].to_numpy(), return_index=True, return_counts=True)
    if len(ids) != len(msd.particles) or np.any(ids != msd.particles):
        raise ValueError("msd was computed for other tracks than those given")
    xy = scaled_positions(table, pixel_size)
    frame = table["frame"].to_numpy()
    row = np.repeat(np.arange(len(ids)), n_points)
    dims = msd.dims

    d = fit["D"].to_numpy()
    d_pos = np.where(d > fit["D_err"].to_numpy(), d, fit["D_err"].to_numpy())
    d_pos = np.where(d_pos > 0, d_pos, np.nan)

    # log-log slope over lags 1 … min(decade, usable lags)
    lags = np.arange(1, msd.msd.shape[1] + 1)
    use = (lags[None, :] <= np.minimum(decade, msd.span)[:, None]) & (msd.msd > 0)
    lx = np.where(use, np.log(lags)[None, :], 0.0)
    ly = np.where(use, np.log(np.where(msd.msd > 0, msd.msd, 1.0)), 0.0)
    k = use.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (k * (lx * ly).sum(1) - lx.sum(1) * ly.sum(1)) / (k * (lx**2).sum(1) - lx.sum(1) ** 2)
    alpha = np.where(k >= 2, alpha, np.nan)

    # single-frame steps (consecutive rows of one track one frame apart)
    same = (row[1:] == row[:-1])
    unit_step = same & (np.diff(frame) == 1)
    step = np.diff(xy, axis=0)
    r2 = np.sum(step**2, axis=1)
    m2 = _per_track(r2[unit_step], row[1:][unit_step], len(ids))
    m4 = _per_track(r2[unit_step] ** 2, row[1:][unit_step], len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        non_gaussian = dims * m4 / ((dims + 2) * m2**2) - 1

    # radius of gyration and path
    centre = np.add.reduceat(xy, start, axis=0) / n_points[:, None]
    rg = np.sqrt(np.add.reduceat(np.sum((xy - centre[row]) ** 2, axis=1), start) / n_points)
    duration = (frame[start + n_points - 1] - frame[start]) * float(frame_interval)
    path = np.bincount(row[1:][same], weights=np.sqrt(np.sum(step[same] ** 2, axis=1)), minlength=len(ids))
    net = np.sqrt(np.sum((xy[start + n_points - 1] - xy[start]) ** 2, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rg_ratio = np.log10(rg / np.sqrt(4 * d_pos * duration))
        confinement = np.where(path > 0, net / path, np.nan)
        log_d = np.log10(d_pos)

    features = pd.DataFrame({"log10_D": log_d, "alpha": alpha, "non_gaussian": non_gaussian,
                             "log10_rg_ratio": rg_ratio, "confinement_ratio": confinement, "D": d,
                             "D_err": fit["D_err"].to_numpy(), "n_points": n_points.astype(np.int64),
                             "duration": duration, "step_rms": np.sqrt(m2)},
                            index=pd.Index(ids.astype(np.int64), name="particle"))
    features.loc[n_points < MIN_POINTS, list(FEATURES)] = np.nan
    return features


def _per_track(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` per track row (NaN for tracks without values)."""
    total = np.bincount(rows, weights=values, minlength=n)
    count = np.bincount(rows, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
