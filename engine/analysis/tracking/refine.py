"""Refinement: nonlinear least-squares fit of the Lorenz–Mie model to a hologram crop.

Lee et al., Opt. Express 15, 18275 (2007): the normalised hologram of a sphere
(:mod:`.hologram`) is fitted to the crop around a particle, pixel by pixel, for the centre
``x, y`` (px), the depth ``z`` and radius ``a_p`` (µm), the real refractive index ``n_p`` and,
optionally, the scale ``α`` of the scattered field, started from an estimate (a detector's
centre, an estimator's ``z, a_p, n_p``). Altman & Grier (2020) use this last step to turn a
fast estimate into a precise one.

* The model is :class:`.crop_model.CropModel` (two real radial profiles per depth, an analytic
  Jacobian); the residuals are ``model − data``, unweighted (uniform noise).
* ``scipy.optimize.least_squares``, Levenberg–Marquardt (``method="lm"``, MINPACK) by default or
  the bounded trust-region method (``"trf"``: ``a_p``, ``n_p``, ``z``, ``α`` kept positive).
* Standard uncertainties from the Jacobian at the solution, ``cov = σ̂² (JᵀJ)⁻¹`` with
  ``σ̂² = Σ r² / (N − p)`` (N pixels, p fitted parameters); the reduced ``χ² = σ̂² / σ_noise²``
  with ``σ_noise`` given or estimated from the crop alone (:func:`.noise.noise_level`).
* The radius–index valley. A hologram barely tells ``a_p`` from ``n_p`` along
  ``a_p (n_p − n_m) ≈ const``, and that valley holds local minima a few percent apart in
  ``a_p``: measured on 201×201 crops of the issue's particles, started 10 % off in ``a_p``
  (0.03 in ``n_p``, 5 % in ``z``), 47 % of single Levenberg–Marquardt fits stopped in one
  (χ² 1.01–12). After the first fit, :meth:`.crop_model.CropModel.scan_radius` scans radii
  ±``search`` along the valley on a pixel subset, the best new local minima are fitted on the
  subset, and a better one restarts the full fit (at most :data:`MAX_JUMPS` times). With it,
  98–100 % of the same fits reach the global minimum (``tests/test_analysis_tracking_refine.py``).
* ``fraction < 1`` fits a seeded random subset of the pixels: Dixon et al., Opt. Express 19,
  16410 (2011) found that a few percent of the pixels of a hologram give nearly the same
  precision at a fraction of the cost (the information is spread over many fringes); the
  uncertainties then describe that subset.
* :func:`refine_many` and :func:`refine_frame` fit many particles in one call, optionally on a
  thread or process pool. A fit that fails (the solver leaves the physical range, e.g. ``z ≤ a_p``)
  is reported with ``success = False`` and its reason, and the batch goes on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from .crop_model import PARAMETERS, CropModel
from .image_checks import checked_image
from .instrument import Instrument
from .noise import noise_level
from .sphere import COLUMNS, Sphere

__all__ = ["FitResult", "crop_around", "refine", "refine_frame", "refine_many"]

#: Fewest pixels a crop must have (more than the parameters, with room to estimate the noise).
MIN_PIXELS = 25
#: Step of the model's radial table, units of 1/k: 1e-8 of the background at worst (z = 10 µm,
#: a_p = 2 µm; :class:`.crop_model.CropModel`), far below any noise, at half the cost of 0.05.
TABLE_STEP = 0.1
#: Pixels (a seeded random subset) on which the valley scan runs.
SCAN_PIXELS = 3000
#: Most restarts from other minima of the radius–index valley.
MAX_JUMPS = 3
#: Minima of a valley scan fitted on the subset, per round.
CANDIDATES = 2


@dataclass(frozen=True)
class FitResult:
    """Outcome of one refinement.

    Attributes
    ----------
    values : Mapping[str, float]
        ``x, y`` (px, frame coordinates), ``z, a_p`` (µm), ``n_p``, ``alpha`` at the solution (the
        start values where the fit failed).
    uncertainties : Mapping[str, float]
        Standard uncertainties, same units; 0 for parameters held fixed, NaN where the fit failed
        or the Jacobian is singular.
    fitted : tuple of str
        Names of the parameters that were fitted.
    chi2_reduced : float
        ``Σ r² / (N − p) / σ_noise²``.
    noise : float
        ``σ_noise`` used for ``chi2_reduced`` (given, or :func:`.noise.noise_level` of the crop).
    success : bool
        The solver converged (``least_squares`` status > 0) inside the physical range.
    message : str
        The solver's message, or why the fit failed.
    n_pixels : int
        Pixels fitted.
    n_evaluations : int
        Model evaluations (without Jacobians), over all fits of the valley search.
    start : Mapping[str, float]
        The start values (the estimate, with ``alpha``).
    """

    values: Mapping[str, float]
    uncertainties: Mapping[str, float]
    fitted: tuple[str, ...]
    chi2_reduced: float
    noise: float
    success: bool
    message: str
    n_pixels: int
    n_evaluations: int
    start: Mapping[str, float] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """Flat record: values, ``<name>_err`` uncertainties, ``chi2, noise, success, message, …``."""
        row: dict[str, Any] = dict(self.values)
        row.update({f"{name}_err": value for name, value in self.uncertainties.items()})
        row.update(chi2=self.chi2_reduced, noise=self.noise, success=self.success, message=self.message,
                   n_pixels=self.n_pixels, n_evaluations=self.n_evaluations)
        return row


def refine(crop: np.ndarray, estimate: Sphere | Mapping[str, float] | pd.Series, instrument: Instrument, *,
           origin: tuple[float, float] = (0.0, 0.0), alpha: float = 1.0, fit_alpha: bool = False,
           fraction: float = 1.0, noise: float | None = None, method: str = "lm", full_field: bool = False,
           search: float = 0.15, seed: int | np.random.Generator = 0, max_evaluations: int = 200) -> FitResult:
    """Fit the Lorenz–Mie hologram of one sphere to a crop (module notes).

    Parameters
    ----------
    crop : ndarray of float, shape (rows, columns)
        Normalised hologram (background ≈ 1), at least :data:`MIN_PIXELS` finite pixels.
    estimate : Sphere, mapping or pandas.Series
        Start: ``x, y`` (px, frame coordinates), ``z, a_p`` (µm), ``n_p``; an ``alpha`` entry
        overrides ``alpha``. The centre must lie within the crop.
    instrument : Instrument
    origin : (float, float), default (0, 0)
        Frame position ``(x, y)`` of the crop's pixel ``(0, 0)``, px.
    alpha : float, default 1
        Scale of the scattered field (start value when ``fit_alpha``), ≥ 0.
    fit_alpha : bool, default False
        Fit ``alpha`` too.
    fraction : float, default 1
        Share of the pixels fitted, in (0, 1] (a seeded random subset, Dixon et al. 2011).
    noise : float, optional
        Standard deviation of the pixel noise (units of the background) for ``chi2_reduced``;
        default estimated from the crop (:func:`.noise.noise_level`).
    method : {"lm", "trf"}, default "lm"
        Levenberg–Marquardt, or the trust-region method with positivity bounds.
    full_field : bool, default False
        Model convention (as :func:`.hologram.hologram`).
    search : float, default 0.15
        Relative half-width of the scan for other minima along the radius–index valley after the
        first fit (module notes); 0 fits once from the estimate.
    seed : int or numpy.random.Generator
        For the pixel subsets.
    max_evaluations : int, default 200
        Cap on model evaluations.

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        A crop that is not a 2D finite array with enough pixels, an estimate that is not a valid
        sphere or whose centre lies outside the crop, ``fraction`` outside (0, 1], ``search``
        outside [0, 1), an unknown ``method``, or a bad ``noise`` or ``alpha``.
    """
    image = _checked_crop(crop)
    start = _start_values(estimate, alpha)
    ox, oy = (float(o) for o in origin)
    rows, cols = image.shape
    if not (ox - 0.5 <= start["x"] <= ox + cols - 0.5 and oy - 0.5 <= start["y"] <= oy + rows - 0.5):
        raise ValueError(f"the estimate's centre ({start['x']:.1f}, {start['y']:.1f}) px lies outside the crop "
                         f"x {ox - 0.5:.1f}…{ox + cols - 0.5:.1f}, y {oy - 0.5:.1f}…{oy + rows - 0.5:.1f} px")
    if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
        raise ValueError(f"fraction must be in (0, 1] (share of the crop's pixels fitted); got {fraction!r}")
    if method not in ("lm", "trf"):
        raise ValueError(f"method must be 'lm' or 'trf'; got {method!r}")
    if not (isinstance(search, (int, float)) and 0 <= search < 1):
        raise ValueError(f"search must be in [0, 1) (relative half-width of the radius scan); got {search!r}")
    if noise is not None and not (math.isfinite(noise) and noise > 0):
        raise ValueError(f"noise must be a positive number (units of the background) or None; got {noise!r}")
    sigma_noise = float(noise) if noise is not None else noise_level(image)
    y, x = np.mgrid[0:rows, 0:cols]
    x, y, data = (x.ravel() + ox).astype(float), (y.ravel() + oy).astype(float), image.ravel()
    rng = np.random.default_rng(seed)
    if fraction < 1:
        count = max(MIN_PIXELS, int(round(fraction * data.size)))
        pick = np.sort(rng.choice(data.size, size=min(count, data.size), replace=False))
        x, y, data = x[pick], y[pick], data[pick]
    model = CropModel(x, y, instrument, full_field=full_field, step=TABLE_STEP)
    fitted = PARAMETERS if fit_alpha else PARAMETERS[:5]
    free = [PARAMETERS.index(name) for name in fitted]
    start_vector = np.array([start[name] for name in PARAMETERS])
    start_map = MappingProxyType(dict(start))
    try:
        best = _solve(model, data, start_vector, free, method, max_evaluations)
        if search > 0:
            scan = _Scan(model, x, y, data, instrument, full_field, rng)
            tried: list[float] = [best.params[3]]
            for _ in range(MAX_JUMPS):
                anchors = [best.params]
                if abs(best.params[2] / start["z"] - 1) > 0.03:    # the fit strayed in depth: look
                    for factor in (0.97, 1.0, 1.03):                # near the estimate's depth too
                        anchor = np.where(np.arange(6) < 2, best.params, start_vector)
                        anchor[2] *= factor
                        anchors.append(anchor)
                candidate = scan.next_start(best.params, anchors, start["a_p"], search, free, method, tried)
                if candidate is None:
                    break
                trial = _solve(model, data, candidate, free, method, max_evaluations)
                evaluations = best.evaluations + trial.evaluations
                improved = trial.cost < best.cost
                best = trial if improved else best
                best = _Solution(best.params, best.cost, evaluations, best.status, best.message)
                if not improved:
                    break
            best = _Solution(best.params, best.cost, best.evaluations + scan.evaluations, best.status, best.message)
    except ValueError as exc:                                 # the model refused the parameters
        return FitResult(start_map, MappingProxyType({n: math.nan for n in PARAMETERS}), fitted, math.nan,
                         sigma_noise, False, f"left the physical range: {exc}", data.size, 0, start_map)
    dof = max(data.size - len(free), 1)
    variance = 2.0 * best.cost / dof
    jac = model.jacobian(best.params)[1][:, free]
    errors = _standard_errors(jac, variance)
    uncertainties = {name: 0.0 for name in PARAMETERS}
    uncertainties.update(zip(fitted, errors))
    return FitResult(MappingProxyType(dict(zip(PARAMETERS, best.params.tolist()))),
                     MappingProxyType(uncertainties), fitted, variance / sigma_noise**2, sigma_noise,
                     bool(best.status > 0), best.message, data.size, best.evaluations, start_map)


@dataclass(frozen=True)
class _Solution:
    params: np.ndarray      # all six parameters
    cost: float             # ½ Σ r²
    evaluations: int
    status: int
    message: str


def _solve(model: CropModel, data: np.ndarray, start: np.ndarray, free: list[int], method: str,
           max_evaluations: int) -> _Solution:
    """One ``least_squares`` run from ``start`` over the ``free`` parameters."""

    def expand(p: np.ndarray) -> np.ndarray:
        q = start.copy()
        q[free] = p
        return q

    def residuals(p: np.ndarray) -> np.ndarray:
        return model.hologram(expand(p)) - data

    def jacobian(p: np.ndarray) -> np.ndarray:
        return model.jacobian(expand(p))[1][:, free]

    options: dict[str, Any] = dict(jac=jacobian, method=method, x_scale="jac", max_nfev=max_evaluations)
    if method == "trf":
        lower = np.array([-np.inf, -np.inf, 1e-6, 1e-6, 1e-3, 0.0])[free]
        options["bounds"] = (lower, np.full(len(free), np.inf))
    solution = least_squares(residuals, start[free], **options)
    return _Solution(expand(solution.x), float(solution.cost), int(solution.nfev), int(solution.status),
                     str(solution.message))


class _Scan:
    """Search for other minima along the radius–index valley (:meth:`CropModel.scan_radius`).

    Works on at most :data:`SCAN_PIXELS` pixels of the crop (a seeded subset). Radii 1 % apart
    cover the start's and the anchor's radius ± ``search``. The local minima of the predicted
    cost (two at most, best first, none within 0.5 % of a radius already tried) are fitted on
    the subset; the best, if it beats the current fit on the same pixels, is the next start.
    """

    def __init__(self, model: CropModel, x: np.ndarray, y: np.ndarray, data: np.ndarray,
                 instrument: Instrument, full_field: bool, rng: np.random.Generator) -> None:
        if x.size > SCAN_PIXELS:
            pick = rng.choice(x.size, size=SCAN_PIXELS, replace=False)
            x, y, data = x[pick], y[pick], data[pick]
            model = CropModel(x, y, instrument, full_field=full_field, step=TABLE_STEP)
        self._model, self._data = model, data
        self.evaluations = 0

    def next_start(self, current: np.ndarray, anchors: list[np.ndarray], a_start: float, search: float,
                   free: list[int], method: str, tried: list[float]) -> np.ndarray | None:
        """Parameters (six) of a better minimum found on the subset, or None."""
        found: list[tuple[float, np.ndarray]] = []
        for anchor in anchors:
            a_anchor, z_anchor = float(anchor[3]), float(anchor[2])
            low = min(a_anchor, a_start) * (1 - search)
            high = min(max(a_anchor, a_start) * (1 + search), 0.95 * z_anchor)
            if not high > low:
                continue
            radii = np.geomspace(low, high, min(int(math.ceil(math.log(high / low) / math.log(1.01))) + 1, 121))
            cost, z_values, n_values = self._model.scan_radius(anchor, self._data, radii)
            for j in range(len(radii)):
                if (j > 0 and cost[j] > cost[j - 1]) or (j < len(radii) - 1 and cost[j] > cost[j + 1]):
                    continue
                if any(abs(radii[j] / a - 1) <= 0.005 for a in tried):
                    continue
                candidate = anchor.copy()
                candidate[2:5] = z_values[j], radii[j], n_values[j]
                found.append((float(cost[j]), candidate))
        residual = self._model.hologram(current) - self._data
        best_cost, best = 0.5 * float(residual @ residual), None
        for _, candidate in sorted(found, key=lambda item: item[0])[:CANDIDATES]:
            tried.append(float(candidate[3]))
            try:
                trial = _solve(self._model, self._data, candidate, free, method, 40)
            except ValueError:
                continue
            self.evaluations += trial.evaluations
            if trial.cost < best_cost:
                best_cost, best = trial.cost, trial.params
        return best


def crop_around(frame: np.ndarray, x: float, y: float, size: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Square crop of ``size`` px centred on the pixel nearest ``(x, y)``, clipped to the frame.

    Parameters
    ----------
    frame : ndarray, shape (rows, columns)
    x, y : float
        Centre, px (column, row).
    size : int
        Side, px (≥ 5; odd sizes centre exactly).

    Returns
    -------
    crop : ndarray, shape (≤ size, ≤ size)
        A view of the frame.
    origin : (float, float)
        Frame position ``(x, y)`` of the crop's pixel ``(0, 0)``.

    Raises
    ------
    ValueError
        ``size < 5``, a non-finite centre, or a centre outside the frame.
    """
    rows, cols = np.shape(frame)[:2]
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"centre must be finite; got ({x}, {y})")
    if int(size) < 5:
        raise ValueError(f"crop size must be at least 5 px; got {size}")
    if not (-0.5 <= x <= cols - 0.5 and -0.5 <= y <= rows - 0.5):
        raise ValueError(f"centre ({x:.1f}, {y:.1f}) px lies outside the frame of shape {(rows, cols)}")
    half = int(size) // 2
    cx, cy = int(round(x)), int(round(y))
    x0, x1 = max(cx - half, 0), min(cx - half + int(size), cols)
    y0, y1 = max(cy - half, 0), min(cy - half + int(size), rows)
    return frame[y0:y1, x0:x1], (float(x0), float(y0))


def refine_many(jobs: Sequence[tuple[np.ndarray, Any, tuple[float, float]]], instrument: Instrument, *,
                workers: int = 1, pool: str = "process", seed: int = 0, **options: Any) -> pd.DataFrame:
    """Refine many particles in one call (several crops of one frame, or of many).

    Parameters
    ----------
    jobs : sequence of (crop, estimate, origin)
        As the arguments of :func:`refine`.
    instrument : Instrument
    workers : int, default 1
        Parallel workers; 1 runs in this process.
    pool : {"process", "thread"}, default "process"
        Kind of pool when ``workers > 1``. Processes scale with cores (the fit holds the GIL
        part of the time); threads avoid starting processes for small batches.
    seed : int, default 0
        Base seed: job ``i`` gets the ``i``-th child of ``numpy.random.SeedSequence(seed)``.
    **options
        Keywords of :func:`refine`.

    Returns
    -------
    pandas.DataFrame
        One row per job, in order: :meth:`FitResult.as_row` columns.

    Raises
    ------
    ValueError
        Bad ``workers`` or ``pool``, or as :func:`refine` for any job (checked before fitting).
    """
    if not (isinstance(workers, int) and workers >= 1):
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    if pool not in ("process", "thread"):
        raise ValueError(f"pool must be 'process' or 'thread'; got {pool!r}")
    jobs = list(jobs)
    for i, job in enumerate(jobs):
        if not (isinstance(job, (tuple, list)) and len(job) == 3):
            raise ValueError(f"job {i} must be (crop, estimate, origin); got {type(job).__name__}")
        _checked_crop(job[0])
        _start_values(job[1], options.get("alpha", 1.0))
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(len(jobs))]
    tasks = [(crop, dict(_start_values(estimate, options.get("alpha", 1.0))), tuple(origin), instrument,
              {**options, "seed": s}) for (crop, estimate, origin), s in zip(jobs, seeds)]
    if workers == 1 or len(tasks) <= 1:
        rows = [_refine_task(task) for task in tasks]
    else:
        with _make_pool(pool, workers) as executor:
            rows = list(executor.map(_refine_task, tasks))
    columns = [*PARAMETERS, *(f"{n}_err" for n in PARAMETERS), "chi2", "noise", "success", "message",
               "n_pixels", "n_evaluations"]
    return pd.DataFrame(rows, columns=columns)


def refine_frame(frame: np.ndarray, estimates: pd.DataFrame, instrument: Instrument, *,
                 crop_size: int | None = None, workers: int = 1, pool: str = "process", seed: int = 0,
                 **options: Any) -> pd.DataFrame:
    """Refine every particle of a table of estimates on its crop of one frame.

    Parameters
    ----------
    frame : ndarray of float, shape (rows, columns)
        Normalised hologram.
    estimates : pandas.DataFrame
        Columns ``x, y`` (px), ``z, a_p`` (µm), ``n_p``; optionally ``size`` (crop side in px, as
        the detectors return) and ``alpha``.
    instrument : Instrument
    crop_size : int, optional
        Crop side in px for every particle (overrides a ``size`` column); one of the two needed.
    workers, pool, seed, **options
        As :func:`refine_many`.

    Returns
    -------
    pandas.DataFrame
        :func:`refine_many`'s columns, indexed like ``estimates``.

    Raises
    ------
    ValueError
        Missing columns or crop size, or as :func:`crop_around` and :func:`refine`.
    """
    frame = np.asarray(frame, dtype=float)
    if frame.ndim != 2:
        raise ValueError(f"frame must be a 2D image; got shape {frame.shape}")
    missing = [c for c in COLUMNS if c not in estimates.columns]
    if missing:
        raise ValueError(f"estimates need columns {list(COLUMNS)}; missing {missing}")
    if crop_size is None and "size" not in estimates.columns:
        raise ValueError("give crop_size or a 'size' column (crop side in px) in the estimates")
    jobs = []
    for _, row in estimates.iterrows():
        size = int(crop_size) if crop_size is not None else int(round(row["size"]))
        crop, origin = crop_around(frame, float(row["x"]), float(row["y"]), size)
        jobs.append((crop, row, origin))
    table = refine_many(jobs, instrument, workers=workers, pool=pool, seed=seed, **options)
    table.index = estimates.index
    return table


# --- helpers ---------------------------------------------------------------------------------------

def _refine_task(task: tuple[np.ndarray, dict[str, float], tuple[float, float], Instrument,
                             dict[str, Any]]) -> dict[str, Any]:
    crop, estimate, origin, instrument, options = task
    return refine(crop, estimate, instrument, origin=origin, **options).as_row()


def _make_pool(kind: str, workers: int) -> Executor:
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="matloop-refine")
    from engine.runtime.executors import make_executor

    return make_executor("local", workers=workers)  # forkserver processes that leave Ctrl-C to this one


def _checked_crop(crop: np.ndarray) -> np.ndarray:
    image = checked_image(crop, 3, "crop")
    if image.size < MIN_PIXELS:
        raise ValueError(f"crop must have at least {MIN_PIXELS} pixels and 3 per side; got shape {image.shape}")
    return image


def _start_values(estimate: Sphere | Mapping[str, float] | pd.Series, alpha: float) -> dict[str, float]:
    if isinstance(estimate, Sphere):
        values = {"x": estimate.x, "y": estimate.y, "z": estimate.z, "a_p": estimate.a_p, "n_p": estimate.n_p}
    elif isinstance(estimate, (Mapping, pd.Series)):
        missing = [c for c in COLUMNS if c not in estimate]
        if missing:
            raise ValueError(f"estimate needs {list(COLUMNS)}; missing {missing}")
        values = {c: estimate[c] for c in COLUMNS}
        if "alpha" in estimate and estimate["alpha"] is not None and not pd.isna(estimate["alpha"]):
            alpha = estimate["alpha"]
    else:
        raise ValueError(f"estimate must be a Sphere or a mapping with {list(COLUMNS)}; "
                         f"got {type(estimate).__name__}")
    sphere = Sphere(*(values[c] for c in COLUMNS))           # ValueError says what is wrong
    if abs(complex(sphere.n_p).imag) > 0:
        raise ValueError(f"refinement fits a real n_p; got {sphere.n_p}")
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number >= 0; got {alpha!r}") from None
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be finite and >= 0; got {alpha!r}")
    return {"x": sphere.x, "y": sphere.y, "z": sphere.z, "a_p": sphere.a_p, "n_p": complex(sphere.n_p).real,
            "alpha": alpha}


def _standard_errors(jac: np.ndarray, variance: float) -> np.ndarray:
    """``sqrt(diag(σ̂² (JᵀJ)⁻¹))`` via the SVD of J; NaN where J is rank-deficient."""
    _, singular, vt = np.linalg.svd(jac, full_matrices=False)
    if singular.size == 0 or singular[-1] <= singular[0] * 1e-12:
        return np.full(jac.shape[1], math.nan)
    return np.sqrt(variance * np.sum((vt / singular[:, None]) ** 2, axis=0))
