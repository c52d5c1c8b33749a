"""One frame in, a table of particles out: detection → estimation → refinement.

The steps of holographic characterisation as Altman & Grier (2020) chain them, each a
separate, replaceable method:

1. **detection** (:data:`DETECTORS`): ``"orientation-alignment"``, the classical centre finder
   of :func:`.detection.locate_rings` (Krishnatreya & Grier 2014) — centres (px), a crop size
   (px) per particle and a score;
2. **estimation** (:data:`ESTIMATORS`): ``"svr"``, support vector regression on the radial
   profile about each centre (:meth:`.svr_estimator.SVREstimator.predict_frame`, Yevick et al.
   2014) — ``a_p``, ``n_p``, ``z_p``; the estimator for the frame's microscope comes from
   :func:`.svr_shipped.estimator_for` (shipped, cached or trained once) unless one is given.
   Estimates are clipped to the estimator's training ranges before they start a fit (beyond
   them a regression extrapolates blindly);
3. **refinement**: :func:`.refine.refine` on the detector's crop (at most ``max_crop`` px a
   side), Levenberg–Marquardt with the radius–index valley search, with standard
   uncertainties and the reduced χ² (Lee et al. 2007);
4. **neighbours** (``neighbours=True``, default): a crop holds the fringes of nearby particles
   too, which a one-sphere fit cannot explain, and a strong particle's fringes can hide a weak
   neighbour from the detector. So the fitted holograms are subtracted from the frame, the
   detector looks again in the residual (a new particle must lie at least :data:`_MIN_DISTANCE`
   px from the others, and its fit must succeed and pin a_p and z to :data:`_RELATIVE_ERROR`:
   else it is a remnant of an imperfect fit), and every particle is fitted again on its crop
   less the fitted fringes of its neighbours (first order: the cross terms between neighbours'
   scattered fields are left). Before that, the background level is measured against the first
   fits, ``median(frame / fitted hologram)``, and the frame divided by it: a frame normalised by
   its own median is off by up to 1–2 % when fringes fill it (:mod:`.images` notes), which
   can tip a fit of a particle cut by the frame's edge into another minimum of the
   radius–index valley (measured: a_p 3 % off for one 16-bit PNG frame of 256×288 px, within
   0.1 % after). Measured on 512×512 frames with three particles 150 px apart
   (5 % noise, seeds 0–1): single fits missed one weak particle per frame and left a_p errors up
   to 3 % (n_p 0.1 in a wrong minimum of the radius–index valley) with χ² 2–10; with this step
   all six particles were found and fitted within 0.1 % in a_p, 0.001 in n_p and 0.4 % in z,
   χ² 1.0–1.6, at about twice the fitting time;
5. **index starts** (``index_starts=True``, default): the last fit of each particle also starts
   from the estimate with n_p ± 0.1, and the fit of least χ² is kept. An estimate off by more
   than ~0.1 in n_p lies on another contour of the radius–index valley, which the refinement's
   scan along the valley does not reach (measured: a particle a_p 0.82 µm, n_p 1.757 estimated
   at n_p 1.595 was fitted to a_p 0.63 µm, n_p 1.587 at χ² 1.30; from n_p + 0.1 it reached the
   truth at χ² 1.16). A last fit that fails or ends above χ² = :data:`_RESCUE_CHI2` is started
   again from depths 0.7–1.3 × the estimate: near the ends of its training range the SVR pulls
   z inwards (measured: z 10.5 µm estimated at 13.4 µm, fitted to a wrong minimum at χ² 4.6;
   from 0.8 × the estimate, the truth at χ² 1.04).

Measured with ``tests/benchmarks/bench_tracking_pipeline.py`` on held-out frames of the issue
(1024×1280 px, 0–4 particles, 5 % noise; 12 frames each of seeds 100 and 200, 45 particles):
none missed, no false detection; 42 of 45 (93 %) within a_p 1 %, n_p 0.005 and z 1 %, RMSE
after the fit a_p 0.0023 and 0.0035 µm, n_p 0.0008 and 0.0028, z 0.023 and 0.015 µm (SVR
estimates: a_p 0.03 µm, n_p 0.03–0.04, z 1.0–1.5 µm). The three others: the weakest
scatterers (a_p 0.46 and 0.52 µm at n_p 1.39–1.40, barely above n_m = 1.34, one 57 px from the
frame's edge) off by 2.2–2.4 % in a_p, and a_p 0.58 µm 125 px from a 1.8 µm particle, off by
1.8 %. Without the index starts, 23 of the 25 of seed 100 and 17 of the 20 of seed 200. Median
7–15 s a frame on one core of the shared test machine (0.7–1.1 s a fit).

A new detector or estimator (e.g. a CNN) is one more entry in these tables: a function of the
frame (and the detections and microscope) that returns the same columns.

:func:`characterise_frame` returns :data:`RESULT_COLUMNS`, one row per detection, strongest
first: the refined ``x, y`` (px), ``z, a_p`` (µm), ``n_p`` and their uncertainties
(``*_err``), ``chi2`` (reduced χ², ≈ 1 for a good fit at the crop's noise), ``success`` and
the solver's ``message``; the detector's ``x_detected, y_detected`` (px), ``size`` (crop side,
px) and ``score``; the estimator's ``z_estimate, a_p_estimate, n_p_estimate``. Without
refinement the values are the detection and the estimate, uncertainties NaN; a failed fit
keeps the detected centre in ``x, y`` and NaN in ``z, a_p, n_p``, with the reason.
:func:`characterise_frames` does several frames and adds a ``frame`` column (so that the table
links into tracks: ``matloop track tracks --link``).

Units: x, y in px (column, row; pixel centres at integers); z, a_p in µm.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .detection import locate_rings
from .hologram import hologram, hologram_at
from .instrument import Instrument
from .refine import crop_around, refine
from .sphere import spheres_from_table
from .svr_estimator import SVREstimator

__all__ = ["DETECTORS", "ESTIMATORS", "MIN_SIDE", "PipelineOptions", "RESULT_COLUMNS", "Timing",
           "characterise_frame", "characterise_frames", "checked_frame", "compare_with_truth"]

#: Fewest pixels a side of a frame (as :data:`.images.MIN_SIDE`).
MIN_SIDE = 32
#: Columns of the result, in order.
RESULT_COLUMNS = ("particle", "x", "y", "z", "a_p", "n_p", "x_err", "y_err", "z_err", "a_p_err", "n_p_err", "chi2",
                  "success", "message", "x_detected", "y_detected", "size", "score", "z_estimate", "a_p_estimate",
                  "n_p_estimate")
#: Least distance between a particle found in the residual and one found before, px: half the
#: smallest crop. A closer one lies inside that particle's crop, whose fit already explains it;
#: measured, the imperfect fit of a particle cut by the frame's corner left ring centres 45 px
#: from it in the residual (score 125, against 5000–7500 for particles hidden by a neighbour).
_MIN_DISTANCE = 50.0
#: Largest relative standard uncertainty of a_p and z of a particle found in the residual. Measured:
#: ring remnants of an imperfect fit, picked up 55–60 px from its centre, fitted to a_p 0.3 ± 0.7 µm
#: and z 19 ± 2 µm; particles hidden by a neighbour are pinned to ~0.1 %.
_RELATIVE_ERROR = 0.1
#: A background level refined by more than this (relative) is noted in the timing notes.
_LEVEL_NOTE = 0.002
#: Offset of the extra starts in n_p (``index_starts``).
_INDEX_STEP = 0.1
#: A last fit with a reduced χ² above this (or failed) is tried again from other depths.
_RESCUE_CHI2 = 2.0
#: Depths of those starts, relative to the estimate.
_DEPTH_FACTORS = (0.7, 0.8, 0.9, 1.1, 1.2, 1.3)
#: Neighbours whose fitted fringes are subtracted from a crop: centres within this distance, px.
_NEIGHBOUR_REACH = 600.0
#: Training ranges assumed for an estimator that records none (those of issue 13).
_DEFAULT_RANGES = {"a_p": (0.4, 2.0), "n_p": (1.38, 1.8), "z_p": (10.0, 40.0)}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PipelineOptions:
    """Settings of :func:`characterise_frame`.

    Parameters
    ----------
    detector : str, default "orientation-alignment"
        A key of :data:`DETECTORS`.
    estimator : str, default "svr"
        A key of :data:`ESTIMATORS`.
    refine : bool, default True
        Fit each particle (else report the estimates).
    max_particles : int, default 50
        Most particles characterised, strongest detections first (1–1000).
    min_crop, max_crop : int, default 101, 301
        Bounds on the crop side, px (odd, 31–801): the detector sizes each crop by where the
        fringes fade into the noise; fits take about 4× longer per doubling of the side.
    threshold : float, default 30
        Least detection score (:func:`.detection.locate_rings`; set on the issue's frames).
    neighbours : bool, default True
        After the first fits, look for particles again in the residual (the frame less the
        fitted holograms) and fit every particle again with its neighbours' fitted fringes
        subtracted from its crop (module notes).
    index_starts : bool, default True
        In the last fit of each particle, also start from the estimate with n_p ± 0.1, and from
        other depths when that fit is poor, and keep the fit of least χ² (module notes; about
        three times the fitting time of that pass).
    seed : int, default 0
        Seed of the refinement's pixel subsets (particle ``i`` gets ``seed + i``).
    """

    detector: str = "orientation-alignment"
    estimator: str = "svr"
    refine: bool = True
    max_particles: int = 50
    min_crop: int = 101
    max_crop: int = 301
    threshold: float = 30.0
    neighbours: bool = True
    index_starts: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; known: {', '.join(DETECTORS)}")
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {self.estimator!r}; known: {', '.join(ESTIMATORS)}")
        for name, low, high in (("max_particles", 1, 1000), ("min_crop", 31, 801), ("max_crop", 31, 801),
                                ("seed", 0, 2**32 - 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer from {low} to {high}; got {value!r}")
        for name in ("refine", "neighbours", "index_starts"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}")
        if self.min_crop > self.max_crop:
            raise ValueError(f"min_crop ({self.min_crop} px) must not exceed max_crop ({self.max_crop} px)")
        if not (isinstance(self.threshold, (int, float)) and math.isfinite(self.threshold) and self.threshold > 0):
            raise ValueError(f"threshold must be a positive detection score; got {self.threshold!r}")

    def as_dict(self) -> dict[str, Any]:
        """Plain record (JSON)."""
        return asdict(self)


@dataclass
class Timing:
    """Wall time of each step, s, summed over frames; ``fits`` counts refinements."""

    detection: float = 0.0
    estimation: float = 0.0
    refinement: float = 0.0
    fits: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        per_fit = self.refinement / self.fits if self.fits else None
        return {"detection_s": self.detection, "estimation_s": self.estimation, "refinement_s": self.refinement,
                "fits": self.fits, "seconds_per_fit": per_fit}


def _detect_rings(frame: np.ndarray, options: PipelineOptions) -> pd.DataFrame:
    return locate_rings(frame, threshold=options.threshold, min_size=options.min_crop, max_size=options.max_crop)


def _estimate_svr(frame: np.ndarray, detections: pd.DataFrame, instrument: Instrument,
                  model: SVREstimator | None, progress: Progress | None) -> tuple[pd.DataFrame, dict[str, tuple]]:
    from .svr_shipped import estimator_for

    if model is None:
        model = estimator_for(instrument, progress=None if progress is None else (lambda m: progress(0.0, m)))
    elif not isinstance(model, SVREstimator):
        raise ValueError(f"the svr estimator needs an SVREstimator; got {type(model).__name__}")
    return model.predict_frame(frame, detections, instrument=instrument), _DEFAULT_RANGES


#: Detectors by name: ``fn(frame, options) -> DataFrame(x, y, size, score)``.
DETECTORS: Mapping[str, Callable[..., pd.DataFrame]] = {"orientation-alignment": _detect_rings}
#: Estimators by name: ``fn(frame, detections, instrument, model, progress) -> (DataFrame(a_p, n_p, z_p), ranges)``.
ESTIMATORS: Mapping[str, Callable[..., tuple[pd.DataFrame, dict[str, tuple]]]] = {"svr": _estimate_svr}


def checked_frame(frame: np.ndarray) -> np.ndarray:
    """A normalised hologram as a float array, or ``ValueError`` saying what is wrong with it."""
    try:
        image = np.asarray(frame, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"the frame must be a 2D array of numbers; got {type(frame).__name__}") from None
    if image.ndim != 2:
        raise ValueError(f"the frame must be one image (rows, columns); got shape {image.shape}")
    if min(image.shape) < MIN_SIDE:
        raise ValueError(f"the frame is {image.shape[0]}×{image.shape[1]} px; at least {MIN_SIDE}×{MIN_SIDE} px "
                         "are needed")
    bad = int(np.count_nonzero(~np.isfinite(image)))
    if bad:
        raise ValueError(f"the frame has {bad} NaN or infinite pixels")
    return image


def characterise_frame(frame: np.ndarray, instrument: Instrument, options: PipelineOptions | None = None, *,
                       estimator: Any = None, progress: Progress | None = None,
                       timing: Timing | None = None) -> pd.DataFrame:
    """Detect, estimate and refine every particle of one normalised hologram (module notes).

    Parameters
    ----------
    frame : ndarray of float, shape (rows, columns)
        Normalised hologram (background ≈ 1; :func:`.images.normalise`), at least 32×32 px.
    instrument : Instrument
    options : PipelineOptions, optional
    estimator : object, optional
        A trained model for ``options.estimator`` (e.g. an :class:`SVREstimator`); default the
        one for ``instrument``.
    progress : callable, optional
        ``progress(fraction, message)``: after detection, estimation and each particle's fit.
    timing : Timing, optional
        Accumulates the wall time of each step.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; one row per particle, strongest detection first (those
        found in the residual after them).

    Raises
    ------
    ValueError
        A bad frame, instrument or option.
    """
    image = checked_frame(frame)
    if not isinstance(instrument, Instrument):
        raise ValueError(f"instrument must be an Instrument; got {type(instrument).__name__}")
    options = options or PipelineOptions()
    timing = timing if timing is not None else Timing()
    say = progress or (lambda fraction, message: None)
    say(0.0, "detecting particles")
    table, ranges = _detect_and_estimate(image, instrument, options, estimator, progress, timing)
    if len(table) > options.max_particles:
        timing.notes.append(f"{len(table)} particles detected; the {options.max_particles} strongest characterised "
                            "(raise the most particles to see more)")
        table = table.iloc[:options.max_particles].reset_index(drop=True)
    if not options.refine or table.empty:
        say(1.0, f"{_count(len(table))} estimated")
        return table
    span = (0.1, 0.55) if options.neighbours else (0.1, 1.0)
    _fit_rows(image, table, range(len(table)), instrument, options, ranges, timing, say, span, "fitting",
              final=not options.neighbours)
    if not options.neighbours:
        say(1.0, f"{_count(len(table))} refined")
        return table
    # particles hidden by strong neighbours: look again with the fitted fringes taken away
    say(0.55, "looking for particles under the fitted fringes")
    start = time.perf_counter()
    model = _model(image.shape, table, instrument)
    level = float(np.median(image / model))          # the background, measured against the fitted holograms
    if abs(level - 1.0) > _LEVEL_NOTE:
        timing.notes.append(f"background level refined by the first fits: the frame was divided by {level:.4f} more")
    image = image / level
    residual = image - (model - 1.0)
    timing.detection += time.perf_counter() - start
    extra, _ = _detect_and_estimate(residual, instrument, options, estimator, None, timing)
    known = table[["x_detected", "y_detected"]].to_numpy()
    keep = [i for i, (x, y) in enumerate(extra[["x", "y"]].to_numpy())
            if np.min(np.hypot(known[:, 0] - x, known[:, 1] - y)) >= _MIN_DISTANCE]
    keep = keep[:max(options.max_particles - len(table), 0)]
    if keep:
        first = len(table)
        table = pd.concat([table, extra.iloc[keep]], ignore_index=True)
        table["particle"] = np.arange(len(table))
        _fit_rows(residual, table, range(first, len(table)), instrument, options, ranges, timing, say, (0.6, 0.65),
                  "fitting newly found particles")
        failed = [i for i in range(first, len(table)) if not _determined(table.loc[i])]
        if failed:                                  # no evidence of a particle: dropped
            table = table.drop(index=failed).reset_index(drop=True)
            table["particle"] = np.arange(len(table))
    # every particle again, the fitted fringes of its neighbours subtracted from its crop
    _fit_rows(image, table, range(len(table)), instrument, options, ranges, timing, say, (0.65, 1.0),
              "fitting again without the neighbours' fringes", neighbours=True, final=True)
    say(1.0, f"{_count(len(table))} refined")
    return table


def _count(n: int) -> str:
    return f"{n} particle" + ("" if n == 1 else "s")


def _detect_and_estimate(image: np.ndarray, instrument: Instrument, options: PipelineOptions, estimator: Any,
                         progress: Progress | None, timing: Timing) -> tuple[pd.DataFrame, dict[str, tuple]]:
    """Detections and estimates as a result table (not refined), and the estimator's ranges."""
    start = time.perf_counter()
    found = DETECTORS[options.detector](image, options).reset_index(drop=True)
    timing.detection += time.perf_counter() - start
    if progress is not None:
        progress(0.08, f"{_count(len(found))} detected; estimating a_p, n_p, z_p")
    start = time.perf_counter()
    estimates, ranges = ESTIMATORS[options.estimator](image, found, instrument, estimator, progress)
    timing.estimation += time.perf_counter() - start
    return _result_table(found, estimates), ranges


def _fit_rows(image: np.ndarray, table: pd.DataFrame, rows: range, instrument: Instrument, options: PipelineOptions,
              ranges: dict[str, tuple], timing: Timing, say: Progress, span: tuple[float, float], what: str,
              neighbours: bool = False, final: bool = False) -> None:
    """Refine ``rows`` of ``table`` in place on their crops of ``image``.

    A first fit starts from the estimate (clipped to the estimator's ranges); with
    ``neighbours``, the fit starts from the last successful one and the crop first loses the
    fitted fringes of the other particles whose centres lie within :data:`_NEIGHBOUR_REACH` px.
    With ``final`` and ``options.index_starts``, two more fits start from the estimate with n_p
    ± :data:`_INDEX_STEP`; the fit of least χ² is kept.
    """
    start = time.perf_counter()
    fitted = table["success"].to_numpy(bool).copy()
    for count, i in enumerate(rows):
        say(span[0] + (span[1] - span[0]) * count / max(len(rows), 1), f"{what}: particle {i + 1} of {len(table)}")
        row = table.iloc[i]
        crop, origin = crop_around(image, float(row["x_detected"]), float(row["y_detected"]), int(row["size"]))
        if neighbours and fitted[i]:
            begin = row[["x", "y", "z", "a_p", "n_p"]]
        else:
            begin = pd.Series({"x": row["x_detected"], "y": row["y_detected"],
                               "z": float(np.clip(row["z_estimate"], *ranges["z_p"])),
                               "a_p": float(np.clip(row["a_p_estimate"], *ranges["a_p"])),
                               "n_p": float(np.clip(row["n_p_estimate"], *ranges["n_p"]))})
        if neighbours:
            others = table[fitted & (np.arange(len(table)) != i)]
            others = others[np.hypot(others["x"] - row["x_detected"], others["y"] - row["y_detected"])
                            <= _NEIGHBOUR_REACH]
            if len(others):
                rows_, cols_ = np.mgrid[0:crop.shape[0], 0:crop.shape[1]]
                model = hologram_at((cols_ + origin[0]).ravel().astype(float), (rows_ + origin[1]).ravel().astype(float),
                                    spheres_from_table(others), instrument)
                crop = crop - (model.reshape(crop.shape) - 1.0)
        fit = refine(crop, begin, instrument, origin=origin, seed=options.seed + i)
        if final and options.index_starts:
            estimate = pd.Series({"x": row["x_detected"], "y": row["y_detected"],
                                  "z": float(np.clip(row["z_estimate"], *ranges["z_p"])),
                                  "a_p": float(np.clip(row["a_p_estimate"], *ranges["a_p"]))})
            for step in (-_INDEX_STEP, _INDEX_STEP):       # other contours of the radius–index valley
                n_p = float(np.clip(row["n_p_estimate"], *ranges["n_p"])) + step
                if n_p <= 0:
                    continue
                other = refine(crop, pd.concat([estimate, pd.Series({"n_p": n_p})]), instrument, origin=origin,
                               seed=options.seed + i)
                timing.fits += 1
                if other.success and (not fit.success or other.chi2_reduced < fit.chi2_reduced):
                    fit = other
            if not fit.success or fit.chi2_reduced > _RESCUE_CHI2:   # a poor fit: other depths too
                for factor in _DEPTH_FACTORS:
                    z = float(np.clip(row["z_estimate"], *ranges["z_p"])) * factor
                    if z <= estimate["a_p"]:
                        continue
                    other = refine(crop, pd.concat([estimate.drop("z"), pd.Series({
                        "z": z, "n_p": float(np.clip(row["n_p_estimate"], *ranges["n_p"]))})]), instrument,
                        origin=origin, seed=options.seed + i)
                    timing.fits += 1
                    if other.success and (not fit.success or other.chi2_reduced < fit.chi2_reduced):
                        fit = other
        if neighbours and not fit.success and fitted[i]:
            continue                                    # keep the first fit rather than lose it
        for name in ("x", "y", "z", "a_p", "n_p"):
            if fit.success:
                table.loc[i, name] = fit.values[name]
            elif name not in ("x", "y"):                # a failed fit keeps the detected centre
                table.loc[i, name] = math.nan
            table.loc[i, f"{name}_err"] = fit.uncertainties[name] if fit.success else math.nan
        table.loc[i, "chi2"] = fit.chi2_reduced if fit.success else math.nan
        table.loc[i, "success"] = bool(fit.success)
        table.loc[i, "message"] = fit.message
        timing.fits += 1
    timing.refinement += time.perf_counter() - start


def _determined(row: pd.Series) -> bool:
    """Whether a fit found a particle: it succeeded and pins a_p and z to :data:`_RELATIVE_ERROR`."""
    return bool(row["success"]) and all(
        math.isfinite(row[f"{name}_err"]) and row[f"{name}_err"] <= _RELATIVE_ERROR * abs(row[name])
        for name in ("a_p", "z"))


def _model(shape: tuple[int, int], table: pd.DataFrame, instrument: Instrument) -> np.ndarray:
    """Model hologram of the successfully fitted particles of ``table`` (1 where there are none)."""
    fitted = table[table["success"].to_numpy(bool)]
    if fitted.empty:
        return np.ones(shape)
    return hologram(shape, spheres_from_table(fitted), instrument)


def characterise_frames(frames: np.ndarray | list[np.ndarray], instrument: Instrument,
                        options: PipelineOptions | None = None, *, estimator: Any = None,
                        progress: Progress | None = None, timing: Timing | None = None) -> pd.DataFrame:
    """:func:`characterise_frame` for several frames; a ``frame`` column (0, 1, …) first.

    ``progress(fraction, message)`` covers all frames. Other parameters as
    :func:`characterise_frame`.
    """
    frames = list(frames)
    if not frames:
        raise ValueError("no frames to characterise")
    options = options or PipelineOptions()
    timing = timing if timing is not None else Timing()
    say = progress or (lambda fraction, message: None)
    tables = []
    for k, frame in enumerate(frames):
        def part(fraction: float, message: str, k: int = k) -> None:
            say((k + fraction) / len(frames), f"frame {k + 1} of {len(frames)}: {message}")

        table = characterise_frame(frame, instrument, options, estimator=estimator, progress=part, timing=timing)
        tables.append(table.assign(frame=k))
    joined = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=RESULT_COLUMNS)
    return joined.loc[:, ["frame", *RESULT_COLUMNS]]


def _result_table(found: pd.DataFrame, estimates: pd.DataFrame) -> pd.DataFrame:
    """The result before refinement: detections and estimates in :data:`RESULT_COLUMNS`."""
    n = len(found)
    nan = np.full(n, np.nan)
    table = pd.DataFrame({
        "particle": np.arange(n), "x": found["x"].to_numpy(float), "y": found["y"].to_numpy(float),
        "z": estimates["z_p"].to_numpy(float), "a_p": estimates["a_p"].to_numpy(float),
        "n_p": estimates["n_p"].to_numpy(float), "x_err": nan, "y_err": nan, "z_err": nan, "a_p_err": nan,
        "n_p_err": nan, "chi2": nan, "success": np.zeros(n, dtype=bool), "message": ["not refined"] * n,
        "x_detected": found["x"].to_numpy(float), "y_detected": found["y"].to_numpy(float),
        "size": found["size"].to_numpy(int), "score": found["score"].to_numpy(float),
        "z_estimate": estimates["z_p"].to_numpy(float), "a_p_estimate": estimates["a_p"].to_numpy(float),
        "n_p_estimate": estimates["n_p"].to_numpy(float)}, columns=list(RESULT_COLUMNS))
    return table.astype({"message": object, "success": bool})


def compare_with_truth(table: pd.DataFrame, truth: pd.DataFrame, radius: float = 5.0) -> dict[str, Any]:
    """Score a result table against the true particles of a synthetic frame.

    Each true particle is matched to the nearest result within ``radius`` px (nearest pairs
    first, each used once; refined centres, or detected ones where the fit failed), as
    :func:`.matching.score_detections` does. The tolerances are those of issue 13: ``a_p``
    within 1 %, ``n_p`` within 0.005, ``z`` within 1 %.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`characterise_frame`'s result.
    truth : pandas.DataFrame
        Columns ``x, y`` (px), ``z, a_p`` (µm), ``n_p``.
    radius : float, default 5
        Largest in-plane distance of a match, px.

    Returns
    -------
    dict
        ``particles, found, matched, missed, false`` (counts), ``rms_px`` (in-plane error of
        the matches), ``rmse`` and ``estimate_rmse`` (``a_p`` µm, ``n_p``, ``z`` µm; refined
        and estimated), ``within`` (matched fits inside all three tolerances) and ``fitted``
        (matched fits that succeeded).
    """
    from scipy.spatial import cKDTree

    found = table[["x", "y"]].to_numpy(float).copy()
    failed = ~np.isfinite(found).all(axis=1)
    found[failed] = table.loc[failed, ["x_detected", "y_detected"]].to_numpy(float)
    targets = truth[["x", "y"]].to_numpy(float)
    pairs: list[tuple[int, int, float]] = []
    if len(found) and len(targets):
        near = cKDTree(found).query_ball_point(targets, r=radius)
        candidates = sorted((float(np.hypot(*(found[j] - targets[i]))), i, j) for i, js in enumerate(near) for j in js)
        used_t: set[int] = set()
        used_f: set[int] = set()
        for distance, i, j in candidates:
            if i not in used_t and j not in used_f:
                used_t.add(i)
                used_f.add(j)
                pairs.append((i, j, distance))
    t_rows = [i for i, _, _ in pairs]
    f_rows = [j for _, j, _ in pairs]
    matched_truth = truth.iloc[t_rows].reset_index(drop=True)
    matched = table.iloc[f_rows].reset_index(drop=True)
    ok = matched["success"].to_numpy(bool)

    def rmse(columns: dict[str, str], rows: np.ndarray) -> dict[str, float]:
        out = {}
        for name, column in columns.items():
            error = matched[column].to_numpy(float)[rows] - matched_truth[name].to_numpy(float)[rows]
            error = error[np.isfinite(error)]
            out[name] = float(np.sqrt(np.mean(error**2))) if error.size else math.nan
        return out

    within = ok & (np.abs(matched["a_p"] / matched_truth["a_p"] - 1) <= 0.01).to_numpy() \
        & (np.abs(matched["n_p"] - matched_truth["n_p"]) <= 0.005).to_numpy() \
        & (np.abs(matched["z"] / matched_truth["z"] - 1) <= 0.01).to_numpy()
    return {
        "particles": len(truth), "found": len(table), "matched": len(pairs), "missed": len(truth) - len(pairs),
        "false": len(table) - len(pairs),
        "rms_px": float(np.sqrt(np.mean([d**2 for _, _, d in pairs]))) if pairs else math.nan,
        "rmse": rmse({"a_p": "a_p", "n_p": "n_p", "z": "z"}, ok),
        "estimate_rmse": rmse({"a_p": "a_p_estimate", "n_p": "n_p_estimate", "z": "z_estimate"}, np.ones_like(ok)),
        "fitted": int(ok.sum()), "within": int(within.sum()),
    }
