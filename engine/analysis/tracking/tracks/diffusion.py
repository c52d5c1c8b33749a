"""Diffusion coefficient from the MSD: a linear fit over the first lags, with its uncertainty.

Model (Michalet 2010, Phys. Rev. E 82, 041914, eq. 8 with the motion-blur term of Berglund 2010,
Phys. Rev. E 82, 011917): for Brownian motion in ``d`` dimensions seen with a static localisation
error ``σ`` per coordinate and motion-blur coefficient ``R``,

    MSD(n Δt) = 2 d D Δt n + 2 d (σ² − 2 R D Δt),

so an ordinary least-squares line ``a + b n`` through the first ``p`` lags gives
``D = b / (2 d Δt)`` and ``σ² = a / (2 d) + 2 R D Δt`` (``R = 0`` for instantaneous exposure,
``1/6`` for a uniform exposure lasting the whole frame).

The MSD points are strongly correlated, so more points do not help: the number of points that
minimises the relative error of the slope (``p_b``) and of the offset (``p_a``) depends on the
reduced localisation error ``x = σ²/(D Δt) − 2R = a / b`` and the number of positions ``N``.
We use Michalet's empirical expressions (Michalet 2010, sec. IV, "optimal number of fitting
points"; restated in Michalet & Berglund 2012, Phys. Rev. E 85, 061916)

    p = ⌊f L / (f³ + L³)^(1/3)⌋,   f_b = 2 + 1.35 x^0.6,  L_b = 0.8 + 0.564 N,
                                   f_a = 2 + 1.6 x^0.51,  L_a = 3 + (4.5 N^0.4 − 8.5)^1.2,

iterated from ``p = N/10`` until a value repeats (Michalet 2010's iterative procedure), each
at least 2.

The standard error of ``D`` is that of the least-squares slope under the exact covariance of
time-averaged MSD points of Brownian motion with localisation noise (Bullerjahn, von Bülow &
Hummer 2020, J. Chem. Phys. 153, 024116, eq. 8a, per coordinate; the coordinates are
independent, so for ``d`` of them the covariance of the summed MSD at given ``a, b`` is the
one-coordinate expression divided by ``d``) — the tests check it against the scatter of
simulated tracks.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .msd import TrackMSD, ensemble_msd

__all__ = ["fit_diffusion", "fit_ensemble_diffusion", "longest_fit", "msd_covariance", "optimal_fit_points"]

#: Fewest positions a track needs for a fit (Michalet's expressions need N ≥ 5).
MIN_POINTS = 5


def longest_fit(n_points: np.ndarray | int) -> np.ndarray:
    """Most MSD points Michalet's rule fits for tracks of ``n_points`` positions: ``⌊L_b⌋``, ``L_b = 0.8 + 0.564 N``.

    The slope's optimum ``p_b`` never exceeds it, and the offset's ``p_a`` is smaller (module notes).
    """
    return np.floor(_slope_limit(n_points)).astype(np.int64)


def _slope_limit(n_points: np.ndarray | int) -> np.ndarray:
    """Michalet's ``L_b = 0.8 + 0.564 N``."""
    return 0.8 + 0.564 * np.asarray(n_points, dtype=float)


def optimal_fit_points(reduced_error: np.ndarray | float, n_points: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Michalet's optimal numbers of MSD points for the slope and for the offset.

    Parameters
    ----------
    reduced_error : array_like of float
        ``x = a / b`` of the MSD line (``σ²/(DΔt) − 2R``); negative values count as 0, ``inf``
        (no positive slope) gives the upper limits ``L``.
    n_points : array_like of int
        Positions per track, ≥ 5.

    Returns
    -------
    p_slope, p_offset : ndarray of int64
        Points for the slope and for the offset (≥ 2), broadcast shape of the inputs.
    """
    x = np.maximum(np.asarray(reduced_error, dtype=float), 0.0)
    n = np.asarray(n_points, dtype=float)
    limit_b = _slope_limit(n)
    limit_a = 3 + np.maximum(4.5 * n**0.4 - 8.5, 0.0) ** 1.2
    with np.errstate(over="ignore", invalid="ignore"):
        f_b = 2 + 1.35 * x**0.6
        f_a = 2 + 1.6 * x**0.51
        p_b = np.where(np.isinf(x), limit_b, f_b * limit_b / np.cbrt(f_b**3 + limit_b**3))
        p_a = np.where(np.isinf(x), limit_a, f_a * limit_a / np.cbrt(f_a**3 + limit_a**3))
    p_b = np.minimum(p_b, limit_b)
    return (np.maximum(np.floor(p_b), 2).astype(np.int64), np.maximum(np.floor(p_a), 2).astype(np.int64))


def msd_covariance(n_lags: int, n_points: int, offset: float, slope: float, *, dims: int = 2) -> np.ndarray:
    """Covariance of the time-averaged MSD at lags ``1 … n_lags`` of one Brownian track.

    Bullerjahn, von Bülow & Hummer 2020, eq. 8a, for one coordinate with ``N − 1`` steps, divided
    by ``dims`` for the MSD summed over independent coordinates.

    Parameters
    ----------
    n_lags : int
        Lags ``1 … n_lags`` (≤ ``n_points − 1``).
    n_points : int
        Positions in the track, ``N``.
    offset, slope : float
        ``a, b`` of the MSD line ``a + b n`` (length²; ``a = 2 d σ²``, ``b = 2 d D Δt``).
    dims : int, default 2

    Returns
    -------
    ndarray of float, shape (n_lags, n_lags)
        Covariance, length⁴.
    """
    bb, aa, ab = _covariance_parts(n_lags, n_points)
    return (slope**2 * bb + offset**2 * aa + offset * slope * ab) / dims


def _covariance_parts(n_lags: int, n_points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of ``b², a², a b`` in the one-coordinate covariance (eq. 8a)."""
    steps = n_points - 1
    i = np.arange(1, n_lags + 1, dtype=float)[:, None]
    j = i.T
    m = np.minimum(i, j)
    norm = (steps - i + 1) * (steps - j + 1)
    tail = steps + 1 - i - j
    bb = (2 * m * (1 + 3 * i * j - m**2) / (steps - m + 1) + (m**2 - m**4) / norm
          + np.where(tail <= -1, (tail**4 - tail**2) / norm, 0.0)) / 3
    aa = (1 + (i == j)) / (steps - m + 1) + np.maximum(0.0, tail) / norm
    ab = 4 * m / (steps - m + 1)
    return bb, aa, ab


def _slope_variance(p: int, n_points: int) -> tuple[float, float, float]:
    """``wᵀ C w`` parts (b², a², ab) for the OLS slope weights ``w`` over lags 1 … p."""
    n = np.arange(1, p + 1, dtype=float)
    w = (p * n - n.sum()) / (p * np.sum(n**2) - n.sum() ** 2)
    return tuple(float(w @ part @ w) for part in _covariance_parts(p, n_points))  # type: ignore[return-value]


def _ols(msd: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row least-squares line ``a + b n`` through the finite MSD values at lags ``1 … p``."""
    n = np.arange(1, msd.shape[1] + 1, dtype=float)[None, :]
    w = (n <= p[:, None]) & np.isfinite(msd)
    y = np.where(w, msd, 0.0)
    s0, s1, s2 = w.sum(1), (w * n).sum(1), (w * n**2).sum(1)
    sy, sny = y.sum(1), (y * n).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        det = s0 * s2 - s1**2
        slope = np.where(s0 >= 2, (s0 * sny - s1 * sy) / det, np.nan)
        offset = np.where(s0 >= 2, (s2 * sy - s1 * sny) / det, np.nan)
    return offset, slope


def _reduced_error(offset: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Michalet's ``x = a / b``: 0 for a non-positive offset, ``inf`` without a positive slope."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(offset <= 0, 0.0, np.where(slope <= 0, np.inf, offset / slope))


def _fit(msd: np.ndarray, n_points: np.ndarray, usable: np.ndarray, n_fit: int | None,
         max_fit: int | None, dims: int) -> dict[str, np.ndarray]:
    """Michalet-iterated fits of MSD rows; returns offset, slope, p_slope, p_offset, slope_var."""
    cap = usable if max_fit is None else np.minimum(usable, max_fit)
    cap = np.maximum(cap, 2)
    if n_fit is not None:
        p = np.minimum(np.full(len(msd), n_fit), cap)
        offset, slope = _ols(msd, p)
        p_offset = p
        offset_fit = offset
    else:
        p = np.minimum(np.maximum(n_points // 10, 2), cap)
        n_fitted = np.maximum(n_points, MIN_POINTS)  # shorter tracks get NaN later
        seen = [p]
        active = np.ones(len(p), dtype=bool)
        for _ in range(100):
            offset, slope = _ols(msd, p)
            x = _reduced_error(offset, slope)
            new = np.minimum(optimal_fit_points(np.where(np.isnan(x), 0.0, x), n_fitted)[0], cap)
            new = np.where(np.isnan(x), p, new)  # no line through the first lags: keep p (NaN result)
            repeat = np.zeros(len(p), dtype=bool)
            for old in seen:
                repeat |= new == old
            p = np.where(active, new, p)
            active &= ~repeat
            if not active.any():
                break
            seen.append(p)
        offset, slope = _ols(msd, p)
        x = _reduced_error(offset, slope)
        p_offset = np.minimum(optimal_fit_points(np.where(np.isnan(x), 0.0, x), n_fitted)[1], cap)
        p_offset = np.where(np.isnan(x), p, p_offset)
        offset_fit, _ = _ols(msd, p_offset)
    variance = np.full(len(msd), np.nan)
    parts: dict[tuple[int, int], tuple[float, float, float]] = {}
    for k in np.flatnonzero(np.isfinite(slope)):
        key = (int(p[k]), max(int(n_points[k]), int(p[k]) + 1))  # gaps: lags can outnumber positions
        if key not in parts:
            parts[key] = _slope_variance(*key)
        bb, aa, ab = parts[key]
        a, b = max(offset[k], 0.0), max(slope[k], 0.0)
        variance[k] = (b * b * bb + a * a * aa + a * b * ab) / dims
    return {"offset": offset_fit, "slope": slope, "p_slope": p, "p_offset": p_offset, "slope_var": variance}


def fit_diffusion(result: TrackMSD, *, n_fit: int | None = None, max_fit: int | None = None,
                  blur: float = 0.0) -> pd.DataFrame:
    """Diffusion coefficient and localisation error of each track.

    Parameters
    ----------
    result : TrackMSD
        Time-averaged MSD (:func:`.msd.track_msd`); for Michalet's rule it should reach lag
        ``0.56 N`` (the default ``max_lag`` does).
    n_fit : int or None
        Fit this many lags (≥ 2) for both slope and offset instead of Michalet's optimum.
    max_fit : int or None
        Never fit more than this many lags (≥ 2); e.g. the first decade for confined tracks,
        whose MSD bends over within it.
    blur : float, default 0
        Motion-blur coefficient ``R`` (0 ≤ R ≤ 1/4; ``t_exposure / (6 Δt)`` for uniform light).

    Returns
    -------
    pandas.DataFrame
        Index ``particle``; columns ``D`` and ``D_err`` (standard error), unit²/s; ``offset``
        (``a = 2d(σ² − 2RDΔt)``, unit², from the offset fit); ``sigma`` (localisation error per
        coordinate, unit; NaN when the offset gives σ² < 0); ``n_fit`` and ``n_fit_offset``
        (lags used); ``n_points``. Tracks with fewer than 5 positions get NaN. For tracks with
        gaps the number of positions stands in for ``N`` and ``D_err`` is approximate.

    Raises
    ------
    ValueError
        ``n_fit`` or ``max_fit`` below 2, or ``blur`` outside ``[0, 1/4]``.
    """
    for name, value in (("n_fit", n_fit), ("max_fit", max_fit)):
        if value is not None and (isinstance(value, bool) or int(value) != value or value < 2):
            raise ValueError(f"{name} must be an integer >= 2 (lags) or None; got {value!r}")
    if not (isinstance(blur, int | float) and 0 <= blur <= 0.25):
        raise ValueError(f"blur (motion-blur coefficient R) must lie in [0, 1/4]; got {blur!r}")
    usable = np.minimum(result.span, result.msd.shape[1])
    fit = _fit(result.msd, result.n_points, usable, n_fit, max_fit, result.dims)
    scale = 2 * result.dims * result.frame_interval
    d = fit["slope"] / scale
    sigma2 = fit["offset"] / (2 * result.dims) + 2 * blur * d * result.frame_interval
    table = pd.DataFrame({"D": d, "D_err": np.sqrt(fit["slope_var"]) / scale, "offset": fit["offset"],
                          "sigma": np.sqrt(np.where(sigma2 >= 0, sigma2, np.nan)),
                          "n_fit": fit["p_slope"], "n_fit_offset": fit["p_offset"], "n_points": result.n_points},
                         index=pd.Index(result.particles, name="particle"))
    short = result.n_points < MIN_POINTS
    table.loc[short, ["D", "D_err", "offset", "sigma"]] = np.nan
    return table


def fit_ensemble_diffusion(result: TrackMSD, particles: np.ndarray | None = None, *, n_fit: int | None = None,
                           max_fit: int | None = None, blur: float = 0.0) -> dict[str, float]:
    """Diffusion coefficient of a population from its time-and-ensemble-averaged MSD.

    The line is fitted to :func:`.msd.ensemble_msd` with Michalet's number of points for the
    median track length (the optimum depends on the shape of the covariance, which averaging
    independent tracks does not change). The uncertainty is that of the weighted mean of the
    per-track ``D`` (weights: positions per track): ``spread / sqrt(n_eff)`` with the weighted
    standard deviation ``spread`` and Kish's effective number of tracks ``n_eff`` — it includes
    any real heterogeneity of the population.

    Parameters
    ----------
    result : TrackMSD
    particles : ndarray of int or None
        Track ids of the population (default all).
    n_fit, max_fit, blur
        As :func:`fit_diffusion`.

    Returns
    -------
    dict
        ``D``, ``D_err``, ``D_spread`` (unit²/s), ``sigma`` (unit), ``n_fit`` (lags),
        ``n_tracks``.
    """
    sub = result if particles is None else result.select(np.asarray(particles))
    per_track = fit_diffusion(sub, n_fit=n_fit, max_fit=max_fit, blur=blur)
    ensemble = ensemble_msd(sub)["msd"].to_numpy()[None, :]
    n = np.array([int(np.median(sub.n_points))])
    fit = _fit(ensemble, n, np.array([min(int(sub.span.max()), ensemble.shape[1])]), n_fit, max_fit, sub.dims)
    scale = 2 * sub.dims * sub.frame_interval
    d = float(fit["slope"][0] / scale)
    sigma2 = float(fit["offset"][0]) / (2 * sub.dims) + 2 * blur * d * sub.frame_interval
    good = per_track["D"].notna().to_numpy()
    values, weights = per_track["D"].to_numpy()[good], per_track["n_points"].to_numpy(float)[good]
    spread, err = math.nan, math.nan
    if values.size >= 2:
        mean = np.average(values, weights=weights)
        n_eff = weights.sum() ** 2 / np.sum(weights**2)
        spread = float(np.sqrt(np.average((values - mean) ** 2, weights=weights) * n_eff / (n_eff - 1)))
        err = spread / math.sqrt(n_eff)
    return {"D": d, "D_err": err, "D_spread": spread, "sigma": math.sqrt(sigma2) if sigma2 >= 0 else math.nan,
            "n_fit": int(fit["p_slope"][0]), "n_tracks": int(len(sub.particles))}
