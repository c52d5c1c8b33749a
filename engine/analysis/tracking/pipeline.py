"""One frame in, a table of particles out: detection → estimation → refinement.

The steps of holographic characterisation as Altman & Grier (2020) chain them, each a
separate, replaceable method:

1. **detection** (:data:`DETECTORS`): ``"cnn"``, the trained heatmap network with
   ring-coherence centres of :func:`.cnn_detector.locate_cnn` (after Newby et al. 2018 and
   Altman & Grier 2020), or ``"orientation-alignment"``, the classical centre finder of
   :func:`.detection.locate_rings` (Krishnatreya & Grier 2014) — centres (px), a crop size (px)
   per particle and a score;
2. **estimation** (:data:`ESTIMATORS`): ``"cnn"``, the convolutional network on a 201-px
   window about each centre (:mod:`.cnn_estimator`, after CATCH), or ``"svr"``, support vector
   regression on the radial profile about each centre
   (:meth:`.svr_estimator.SVREstimator.predict_frame`, Yevick et al. 2014) — ``a_p``, ``n_p``,
   ``z_p``; the SVR for the frame's microscope comes from :func:`.svr_shipped.estimator_for`
   (shipped, cached or trained once) unless one is given. Estimates are clipped to the
   estimator's training ranges before they start a fit (beyond them a regression extrapolates
   blindly). The shipped networks belong to the microscope they were trained for (λ = 0.447 µm,
   0.048 µm/px, n_m = 1.34) and refuse another; ``"auto"`` (the default of both) takes them for
   that microscope and frames of at least 64 px a side, else the classical finder and the SVR
   (:func:`resolved_options`). Both estimators read a 201-px window about the centre; near the
   frame's edge the part beyond it is completed by the hologram's symmetry under a rotation by
   180° (:mod:`.windows`; measured, particles 0–20 px from an edge: CNN RMSE a_p 0.317 →
   0.014 µm, n_p 0.103 → 0.009, z 4.2 → 0.24 µm);
3. **refinement**: :func:`.refine.refine` on the detector's crop (at most ``max_crop`` px a
   side), Levenberg–Marquardt with the radius–index valley search, with standard
   uncertainties and the reduced χ² (Lee et al. 2007);
4. **neighbours** (``neighbours=True``, default): a crop holds the fringes of nearby particles
   too, which a one-sphere fit cannot explain, and a strong particle's fringes can hide a weak
   neighbour from the detector. So the fitted holograms are subtracted from the frame, the
   detector looks again in the residual (a new particle must lie at least :data:`_MIN_DISTANCE`
   px from the others, and its fit must succeed and pin a_p and z to :data:`_RELATIVE_ERROR`:
   else it is a remnant of an imperfect fit), and every particle is fitted again on its crop
   less what its fitted neighbours add, ``H(neighbours + it) − H(it)`` at the last fits: their
   fringes and the cross terms between their scattered fields and its own (measured: a_p 0.58 µm
   126 px from a 1.77 µm particle, 1.6 % off with the fringes alone, 0.7 % with the cross
   terms). The estimator estimates it again on that cleaned window, and the fit starts both from
   its last fit and from the new estimate (measured on the issue's frames: estimate RMSE a_p
   0.12 → 0.017 µm, n_p 0.05 → 0.009; a neighbour's fringes in the window mislead the networks,
   which were trained on single particles). Before that, the background level is measured
   against the first fits, ``median(frame / fitted hologram)``, and the frame divided by it: a
   frame normalised by its own median is off by up to 1–2 % when fringes fill it (:mod:`.images`
   notes), which can tip a fit of a particle cut by the frame's edge into another minimum of the
   radius–index valley (measured: a_p 3 % off for one 16-bit PNG frame of 256×288 px, within
   0.1 % after). Measured on 512×512 frames with three particles 150 px apart (5 % noise, seeds
   0–1): single fits missed one weak particle per frame and left a_p errors up to 3 % (n_p 0.1
   in a wrong minimum of the radius–index valley) with χ² 2–10; with this step all six particles
   were found and fitted within 0.1 % in a_p, 0.001 in n_p and 0.4 % in z, χ² 1.0–1.6, at about
   twice the fitting time;
5. **index starts** (``index_starts=True``, default): the last fit of each particle also starts
   from the estimate with n_p ± 0.1, and the fit of least χ² is kept. An estimate off by more
   than ~0.1 in n_p lies on another contour of the radius–index valley, which the refinement's
   scan along the valley does not reach (measured: a particle a_p 0.82 µm, n_p 1.757 estimated
   at n_p 1.595 was fitted to a_p 0.63 µm, n_p 1.587 at χ² 1.30; from n_p + 0.1 it reached the
   truth at χ² 1.16). A last fit that fails or ends above χ² = :data:`_RESCUE_CHI2` is started
   again from depths 0.7–1.3 × the estimate and radii 0.8 and 1.25 × the estimate: near the
   ends of its training range the SVR pulls z inwards (measured: z 10.5 µm estimated at
   13.4 µm, fitted to a wrong minimum at χ² 4.6; from 0.8 × the estimate, the truth at χ²
   1.04), and a radius 20 % low leads to another contour of the valley (a_p 1.33 µm estimated
   at 1.05 µm, fitted to 1.24 µm, n_p 1.556 at χ² 1.72; from 1.25 × the estimate, the truth).

Measured with ``tests/benchmarks/bench_tracking_pipeline.py`` on held-out frames of the issue
(1024×1280 px, 0–4 particles, 5 % noise; 12 frames each of seeds 100 and 200, 45 particles), one
core of the shared 2-core test machine:

=======================================  ======  =====  ==============  =======================
methods (all other options default)      missed  false  within          s/frame (median), s/fit
=======================================  ======  =====  ==============  =======================
CNN detector + CNN estimator (``auto``)  0       0      43/45 (95.6 %)  7.2 and 6.7, 0.59–0.69
orientation alignment + SVR              0       0      42/45 (93.3 %)  10.3 and 8.2, 0.59–0.75
=======================================  ======  =====  ==============  =======================

("within": a_p 1 %, n_p 0.005 and z 1 %.) With the networks, RMSE after the fit a_p 0.0011 and
0.0027 µm, n_p 0.0004 and 0.0012, z 0.013 µm; of the estimates a_p 0.015–0.019 µm, n_p
0.008–0.010, z 0.17–0.45 µm. The two others are the weakest scatterers (a_p 0.46 and 0.52 µm at
n_p 1.39–1.40, barely above n_m = 1.34), 1.1 % and 2.1 % off in a_p with standard
uncertainties of 1.8 % and 0.9 %, χ² 1.0–1.3: the noise, not the method, limits them. Before
the windows were completed at the edges, the neighbours' cross terms subtracted and the
estimate renewed, the networks gave 41 of 45 (the SVR 42 of 45).

:func:`characterise_frame` returns :data:`RESULT_COLUMNS`, one row per detection, strongest first:
the refined ``x, y`` (px), ``z, a_p`` (µm), ``n_p`` and their uncertainties (``*_err``), ``chi2``
(reduced χ², ≈ 1 for a good fit at the crop's noise), ``success`` and the solver's ``message``
("poor fit: reduced χ² …" for a converged fit above :data:`_POOR_CHI2`, with a note naming the
likely causes); the detector's ``x_detected, y_detected`` (px), ``size`` (crop side, px) and
``score``; the estimator's ``z_estimate, a_p_estimate, n_p_estimate`` (with ``neighbours``, the
estimate made on the window less the neighbours' fitted holograms). Without refinement the values
are the detection and the estimate, uncertainties NaN; a failed fit keeps the detected centre in
``x, y`` and NaN in ``z, a_p, n_p``, with the reason. :func:`characterise_frames` does several
frames and adds a ``frame`` column (so that the table links into
tracks: ``matloop track tracks --link``).

Units: x, y in px (column, row; pixel centres at integers); z, a_p in µm.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .detection import locate_rings
from .hologram import hologram, hologram_at
from .image_checks import CNN_MIN_SIDE, checked_image
from .images import MIN_SIDE
from .instrument import Instrument
from .refine import crop_around, refine
from .sphere import spheres_from_table
from .svr_estimator import SVREstimator
from .windows import symmetric_windows

__all__ = ["DETECTORS", "ESTIMATORS", "MIN_SIDE", "NETWORK_MICROSCOPE", "PipelineOptions", "RESULT_COLUMNS", "Timing",
           "characterise_frame", "characterise_frames", "compare_with_truth", "resolved_options"]

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
#: Largest background correction applied: a frame normalised by its median is off by 1–2 %
#: (:mod:`.images` notes); a larger estimate comes from poor first fits or a frame with too little
#: background (measured: 9.5 % on a 64×64 frame with one particle, which then fitted 4.5 % off).
_LEVEL_LIMIT = 0.03
#: Fits whose centres converge closer than this, px, are one particle.
_DUPLICATE_DISTANCE = 10.0
#: A converged fit with a reduced χ² above this is marked poor (good fits: 0.9–1.4 on the issue's
#: frames; stranger tests: overlapping pairs 12, uneven illumination 19–23, crowded frames 6–29).
_POOR_CHI2 = 2.0
#: Offset of the extra starts in n_p (``index_starts``).
_INDEX_STEP = 0.1
#: A last fit with a reduced χ² above this (or failed) is tried again from other depths.
_RESCUE_CHI2 = 1.5
#: Depths of those starts, relative to the estimate.
_DEPTH_FACTORS = (0.7, 0.8, 0.9, 1.1, 1.2, 1.3)
#: Radii of those starts, relative to the estimate.
_RADIUS_FACTORS = (0.8, 1.25)
#: Neighbours whose fitted fringes are subtracted from a crop: centres within this distance, px.
_NEIGHBOUR_REACH = 600.0
#: Side of the region estimated again without the neighbours' fringes, px (the estimators' window).
_ESTIMATE_SIDE = 201
#: Training ranges assumed for an estimator that records none (those of issue 13).
_DEFAULT_RANGES = {"a_p": (0.4, 2.0), "n_p": (1.38, 1.8), "z_p": (10.0, 40.0)}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PipelineOptions:
    """Settings of :func:`characterise_frame`.

    Parameters
    ----------
    detector : str, default "auto"
        A key of :data:`DETECTORS`, or ``"auto"`` (:func:`resolved_options`).
    estimator : str, default "auto"
        A key of :data:`ESTIMATORS`, or ``"auto"``.
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

    detector: str = "auto"
    estimator: str = "auto"
    refine: bool = True
    max_particles: int = 50
    min_crop: int = 101
    max_crop: int = 301
    threshold: float = 30.0
    neighbours: bool = True
    index_starts: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.detector != "auto" and self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}; known: auto, {', '.join(DETECTORS)}")
        if self.estimator != "auto" and self.estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {self.estimator!r}; known: auto, {', '.join(ESTIMATORS)}")
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


def _detect_rings(frame: np.ndarray, options: PipelineOptions, instrument: Instrument) -> pd.DataFrame:
    return locate_rings(frame, threshold=options.threshold, min_size=options.min_crop, max_size=options.max_crop)


def _detect_cnn(frame: np.ndarray, options: PipelineOptions, instrument: Instrument) -> pd.DataFrame:
    import copy

    _check_network_microscope("CNN detector", instrument)
    detector = copy.copy(_shipped_detector())
    detector.min_size, detector.max_size = options.min_crop, options.max_crop
    return detector.locate(frame)


def _cnn_model(instrument: Instrument, model: Any, progress: Progress | None) -> tuple[Any, dict[str, tuple]]:
    from .cnn_estimator import CNNEstimator

    if model is None:
        _check_network_microscope("CNN estimator", instrument)
        model = _shipped_cnn_estimator()
    elif not isinstance(model, CNNEstimator):
        raise ValueError(f"the cnn estimator needs a CNNEstimator; got {type(model).__name__}")
    model.check_instrument(instrument)
    return model, dict(getattr(model, "ranges_", None) or _DEFAULT_RANGES)


def _svr_model(instrument: Instrument, model: Any, progress: Progress | None) -> tuple[Any, dict[str, tuple]]:
    from .svr_shipped import estimator_for

    if model is None:
        model = estimator_for(instrument, progress=None if progress is None else (lambda m: progress(0.0, m)))
    elif not isinstance(model, SVREstimator):
        raise ValueError(f"the svr estimator needs an SVREstimator; got {type(model).__name__}")
    model.check_instrument(instrument)
    return model, _DEFAULT_RANGES


#: Detectors by name: ``fn(frame, options, instrument) -> DataFrame(x, y, size, score)``.
DETECTORS: Mapping[str, Callable[..., pd.DataFrame]] = {"cnn": _detect_cnn, "orientation-alignment": _detect_rings}
#: Estimators by name: ``fn(instrument, model, progress) -> (model, ranges)`` gives the trained model
#: (the one passed, checked, or the shipped one for the microscope) and its training ranges; the model's
#: ``predict_crops(windows, centres)`` returns ``DataFrame(a_p, n_p, z_p)``.
ESTIMATORS: Mapping[str, Callable[..., tuple[Any, dict[str, tuple]]]] = {"cnn": _cnn_model, "svr": _svr_model}
#: What ``"auto"`` resolves to without the networks (another microscope, or a frame too small).
_CLASSICAL = {"detector": "orientation-alignment", "estimator": "svr"}
#: Microscope of the shipped networks (issue 13).
NETWORK_MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)


@functools.cache
def _shipped_detector() -> Any:
    """The shipped CNN detector, read once per process (torch is imported only when it is used)."""
    from .cnn_detector import load_shipped_detector

    return load_shipped_detector()


@functools.cache
def _shipped_cnn_estimator() -> Any:
    """The shipped CNN estimator, read once per process."""
    from .cnn_estimator import load_shipped_estimator

    return load_shipped_estimator()


def _check_network_microscope(what: str, instrument: Instrument) -> None:
    from .svr_estimator import same_instrument

    if not same_instrument(instrument, NETWORK_MICROSCOPE):
        m = NETWORK_MICROSCOPE
        raise ValueError(f"the shipped {what} was trained for λ = {m.wavelength:g} µm, {m.magnification:g} µm/px, "
                         f"n_m = {m.n_m:g}; this microscope is λ = {instrument.wavelength:g} µm, "
                         f"{instrument.magnification:g} µm/px, n_m = {instrument.n_m:g}. Choose 'auto' or the "
                         "classical methods (orientation-alignment, svr), which work for any microscope")


def resolved_options(options: PipelineOptions, instrument: Instrument, shape: tuple[int, int],
                     estimator: Any = None) -> tuple[PipelineOptions, list[str]]:
    """``options`` with ``"auto"`` replaced by the methods used, and a note for each choice.

    ``"auto"`` is ``"cnn"`` for the microscope of the shipped networks
    (:data:`NETWORK_MICROSCOPE`) on frames of at least 64 px a side, else the classical
    ``"orientation-alignment"`` detector and the ``"svr"`` estimator (module notes). A trained
    ``estimator`` given with ``"auto"`` decides the estimator by its kind.

    Raises
    ------
    ValueError
        ``"cnn"`` asked for another microscope than the shipped networks', or an ``estimator``
        that is neither an SVR nor a CNN estimator.
    """
    from .svr_estimator import same_instrument

    chosen, notes = {}, []
    if options.estimator == "auto" and estimator is not None:
        if isinstance(estimator, SVREstimator):
            chosen["estimator"] = "svr"
        else:
            from .cnn_estimator import CNNEstimator

            if not isinstance(estimator, CNNEstimator):
                raise ValueError(f"the estimator given must be a trained SVREstimator or CNNEstimator; got "
                                 f"{type(estimator).__name__}")
            chosen["estimator"] = "cnn"
        notes.append(f"estimator: {chosen['estimator']} (the model given)")
    networks = same_instrument(instrument, NETWORK_MICROSCOPE) and min(shape) >= CNN_MIN_SIDE
    if options.detector == "cnn":                       # refused before any work
        _check_network_microscope("CNN detector", instrument)
    if options.estimator == "cnn" and estimator is None:
        _check_network_microscope("CNN estimator", instrument)
    for step in ("detector", "estimator"):
        if getattr(options, step) == "auto" and step not in chosen:
            chosen[step] = "cnn" if networks else _CLASSICAL[step]
            reason = ("the shipped network, trained for this microscope" if networks else
                      "the shipped networks belong to λ = 0.447 µm, 0.048 µm/px, n_m = 1.34" if min(shape)
                      >= CNN_MIN_SIDE else f"the frame is under {CNN_MIN_SIDE} px a side")
            notes.append(f"{step}: {chosen[step]} ({reason})")
    return replace(options, **chosen), notes


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
        A trained model for ``options.estimator`` (an :class:`SVREstimator` or a
        :class:`.cnn_estimator.CNNEstimator`); default the shipped one for ``instrument``.
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
    image = checked_image(frame, MIN_SIDE, "the frame")
    if not isinstance(instrument, Instrument):
        raise ValueError(f"instrument must be an Instrument; got {type(instrument).__name__}")
    options, notes = resolved_options(options or PipelineOptions(), instrument, image.shape, estimator)
    timing = timing if timing is not None else Timing()
    timing.notes.extend(note for note in notes if note not in timing.notes)
    say = progress or (lambda fraction, message: None)
    say(0.0, "detecting particles")
    model, ranges = ESTIMATORS[options.estimator](instrument, estimator, progress)
    table = _detect_and_estimate(image, instrument, options, model, progress, timing)
    if len(table) > options.max_particles:
        timing.notes.append(f"{len(table)} particles detected; the {options.max_particles} strongest characterised "
                            "(raise the most particles to see more)")
        table = table.iloc[:options.max_particles].reset_index(drop=True)
    if not options.refine or table.empty:
        say(1.0, f"{_count(len(table))} estimated")
        return table
    span = (0.1, 0.55) if options.neighbours else (0.1, 1.0)
    _fit_rows(image, table, range(len(table)), instrument, options, model, ranges, timing, say, span, "fitting",
              final=not options.neighbours)
    if not options.neighbours:
        _flag_poor_fits(table, ranges, timing)
        say(1.0, f"{_count(len(table))} refined")
        return table
    # particles hidden by strong neighbours: look again with the fitted fringes taken away
    say(0.55, "looking for particles under the fitted fringes")
    start = time.perf_counter()
    fitted = _model(image.shape, table, instrument)
    level = float(np.median(image / fitted))          # the background, measured against the fitted holograms
    if abs(level - 1.0) > _LEVEL_LIMIT:               # poor first fits or too few background pixels to tell
        timing.notes.append(f"the first fits put the background at {level:.4f}, beyond ±{_LEVEL_LIMIT:.0%} of the "
                            "normalisation: left at 1")
        level = 1.0
    elif abs(level - 1.0) > _LEVEL_NOTE:
        timing.notes.append(f"background level refined by the first fits: the frame was divided by {level:.4f} more")
    image = image / level
    residual = image - (fitted - 1.0)
    timing.detection += time.perf_counter() - start
    extra = _detect_and_estimate(residual, instrument, options, model, None, timing)
    known = np.vstack([table[["x_detected", "y_detected"]].to_numpy(float),       # detected and fitted centres
                       table.loc[table["success"].to_numpy(bool), ["x", "y"]].to_numpy(float)])
    keep = [i for i, (x, y) in enumerate(extra[["x", "y"]].to_numpy())
            if np.min(np.hypot(known[:, 0] - x, known[:, 1] - y)) >= _MIN_DISTANCE]
    keep = keep[:max(options.max_particles - len(table), 0)]
    if keep:
        first = len(table)
        table = pd.concat([table, extra.iloc[keep]], ignore_index=True)
        table["particle"] = np.arange(len(table))
        _fit_rows(residual, table, range(first, len(table)), instrument, options, model, ranges, timing, say,
                  (0.6, 0.65), "fitting newly found particles")
        failed = [i for i in range(first, len(table)) if not _determined(table.loc[i])]
        if failed:                                  # no evidence of a particle: dropped
            table = table.drop(index=failed).reset_index(drop=True)
            table["particle"] = np.arange(len(table))
    # every particle again, the fitted fringes of its neighbours subtracted from its crop
    _fit_rows(image, table, range(len(table)), instrument, options, model, ranges, timing, say, (0.65, 1.0),
              "fitting again without the neighbours' fringes", neighbours=True, final=True)
    table = _without_duplicates(table, timing)
    _flag_poor_fits(table, ranges, timing)
    say(1.0, f"{_count(len(table))} refined")
    return table


def _without_duplicates(table: pd.DataFrame, timing: Timing) -> pd.DataFrame:
    """Drop fits whose centres converged within :data:`_DUPLICATE_DISTANCE` px of a better fit
    (lower χ²): two detections of one particle (seen in narrow frames, where the rings are cut)."""
    fits = table[table["success"].to_numpy(bool)].sort_values("chi2")
    dropped: list[int] = []
    kept: list[tuple[float, float]] = []
    for index, row in fits.iterrows():
        if any(math.hypot(row["x"] - x, row["y"] - y) < _DUPLICATE_DISTANCE for x, y in kept):
            dropped.append(index)
        else:
            kept.append((row["x"], row["y"]))
    if not dropped:
        return table
    timing.notes.append(f"{_count(len(dropped))} dropped: fitted within {_DUPLICATE_DISTANCE:g} px of a better fit "
                        "(one particle detected twice)")
    table = table.drop(index=dropped).reset_index(drop=True)
    table["particle"] = np.arange(len(table))
    return table


def _flag_poor_fits(table: pd.DataFrame, ranges: dict[str, tuple], timing: Timing) -> None:
    """Mark converged fits that do not explain their crop (reduced χ² above :data:`_POOR_CHI2`) in
    their message, and note estimates at the edge of the estimator's training ranges."""
    poor = table["success"].to_numpy(bool) & (table["chi2"].to_numpy(float) > _POOR_CHI2)
    for i in np.flatnonzero(poor):
        table.loc[i, "message"] = f"poor fit: reduced χ² {table.loc[i, 'chi2']:.1f}"
    if poor.any():
        timing.notes.append(f"{_count(int(poor.sum()))} fitted with reduced χ² above {_POOR_CHI2:g} (particles "
                            f"{', '.join(str(int(p)) for p in table.loc[poor, 'particle'])}): the model does not "
                            "explain the crop — overlapping particles, uneven illumination (give a background image) "
                            "or parameters outside the estimator's ranges; treat those values with care")
    for column, key, unit in (("a_p_estimate", "a_p", " µm"), ("n_p_estimate", "n_p", ""),
                              ("z_estimate", "z_p", " µm")):
        low, high = ranges[key]
        beyond = (table[column] < low) | (table[column] > high)
        if beyond.any():
            timing.notes.append(f"{_count(int(beyond.sum()))} estimated beyond the estimator's training range of "
                                f"{key} ({low:g}–{high:g}{unit}); fits started at its edge and may miss values far "
                                "beyond it")


def _count(n: int) -> str:
    return f"{n} particle" + ("" if n == 1 else "s")


def _detect_and_estimate(image: np.ndarray, instrument: Instrument, options: PipelineOptions, model: Any,
                         progress: Progress | None, timing: Timing) -> pd.DataFrame:
    """Detections and ``model``'s estimates as a result table (not refined)."""
    start = time.perf_counter()
    found = DETECTORS[options.detector](image, options, instrument).reset_index(drop=True)
    timing.detection += time.perf_counter() - start
    if progress is not None:
        progress(0.08, f"{_count(len(found))} detected; estimating a_p, n_p, z_p")
    start = time.perf_counter()
    estimates = _estimate(model, image, found[["x", "y"]].to_numpy(float))
    timing.estimation += time.perf_counter() - start
    return _result_table(found, estimates)


def _estimate(model: Any, image: np.ndarray, centres: np.ndarray) -> pd.DataFrame:
    """``model``'s estimates (``a_p, n_p, z_p``) at ``centres`` (n, 2) of ``image``, from windows
    completed beyond the frame's edges by the hologram's symmetry (:mod:`.windows`)."""
    if len(centres) == 0:
        return pd.DataFrame(np.empty((0, 3)), columns=["a_p", "n_p", "z_p"])
    windows, local = symmetric_windows(image, centres, _ESTIMATE_SIDE)
    return model.predict_crops(windows, local)


def _start(row: pd.Series, ranges: dict[str, tuple], **changes: float) -> dict[str, float]:
    """Start of a fit at the detected centre from the row's estimate, clipped to the estimator's
    training ranges, with ``changes`` applied."""
    begin = {"x": float(row["x_detected"]), "y": float(row["y_detected"]),
             "z": float(np.clip(row["z_estimate"], *ranges["z_p"])),
             "a_p": float(np.clip(row["a_p_estimate"], *ranges["a_p"])),
             "n_p": float(np.clip(row["n_p_estimate"], *ranges["n_p"]))}
    begin.update(changes)
    return begin


def _without_neighbours(image: np.ndarray, table: pd.DataFrame, i: int, fitted: np.ndarray, size: int,
                        instrument: Instrument) -> tuple[np.ndarray, tuple[float, float]]:
    """Crop of ``size`` px about particle ``i``'s detection, less what the other fitted particles
    within :data:`_NEIGHBOUR_REACH` px add to it.

    When particle ``i`` is fitted too, that is the fitted hologram of all of them less its own,
    ``H(others + i) − H(i)``: the neighbours' fringes and the cross terms between their
    scattered fields and particle ``i``'s, ``2 Re(E_i E_j*)`` (Lee et al. 2007, Eq. 4 summed over
    spheres); else the neighbours' holograms alone, ``H(others) − 1``.
    """
    row = table.iloc[i]
    crop, origin = crop_around(image, float(row["x_detected"]), float(row["y_detected"]), size)
    others = table[fitted & (np.arange(len(table)) != i)]
    others = others[np.hypot(others["x"] - row["x_detected"], others["y"] - row["y_detected"]) <= _NEIGHBOUR_REACH]
    if len(others):
        rows, cols = np.mgrid[0:crop.shape[0], 0:crop.shape[1]]
        x, y = (cols + origin[0]).ravel().astype(float), (rows + origin[1]).ravel().astype(float)
        if fitted[i]:
            itself = table.iloc[[i]]
            extra = hologram_at(x, y, spheres_from_table(pd.concat([others, itself])), instrument) \
                - hologram_at(x, y, spheres_from_table(itself), instrument)
        else:
            extra = hologram_at(x, y, spheres_from_table(others), instrument) - 1.0
        crop = crop - extra.reshape(crop.shape)
    return crop, origin


def _fit_rows(image: np.ndarray, table: pd.DataFrame, rows: range, instrument: Instrument, options: PipelineOptions,
              model: Any, ranges: dict[str, tuple], timing: Timing, say: Progress, span: tuple[float, float],
              what: str, neighbours: bool = False, final: bool = False) -> None:
    """Refine ``rows`` of ``table`` in place on their crops of ``image``.

    A first fit starts from the estimate (clipped to the estimator's ranges). With
    ``neighbours``, the crop first loses the fitted fringes of the other particles whose centres
    lie within :data:`_NEIGHBOUR_REACH` px, ``model`` estimates the particle again on what is
    left (the estimate columns are replaced), and the fit starts from the last successful one and
    from the new estimate. With ``final`` and ``options.index_starts``, two more fits start from
    the estimate with n_p ± :data:`_INDEX_STEP`, and a poor best fit (failed, or reduced χ² above
    :data:`_RESCUE_CHI2`) is tried again from other depths; the fit of least χ² is kept.
    """
    start = time.perf_counter()
    fitted = table["success"].to_numpy(bool).copy()
    for count, i in enumerate(rows):
        say(span[0] + (span[1] - span[0]) * count / max(len(rows), 1), f"{what}: particle {i + 1} of {len(table)}")
        size = int(table.iloc[i]["size"])
        starts: list[dict[str, float]] = []
        if neighbours:
            # the estimator's window (201 px) may be wider than the crop: clean both at once
            wide, wide_origin = _without_neighbours(image, table, i, fitted, max(size, _ESTIMATE_SIDE), instrument)
            row = table.iloc[i]
            at = np.array([[row["x_detected"] - wide_origin[0], row["y_detected"] - wide_origin[1]]])
            clean = time.perf_counter()
            estimate = _estimate(model, wide, at).iloc[0]
            timing.estimation += time.perf_counter() - clean
            for name, column in (("a_p", "a_p_estimate"), ("n_p", "n_p_estimate"), ("z_p", "z_estimate")):
                table.loc[i, column] = float(estimate[name])
            crop, inner = crop_around(wide, float(at[0, 0]), float(at[0, 1]), size)
            origin = (wide_origin[0] + inner[0], wide_origin[1] + inner[1])
            if fitted[i]:
                starts.append({name: float(table.iloc[i][name]) for name in ("x", "y", "z", "a_p", "n_p")})
        else:
            crop, origin = crop_around(image, float(table.iloc[i]["x_detected"]), float(table.iloc[i]["y_detected"]),
                                       size)
        row = table.iloc[i]
        starts.append(_start(row, ranges))
        if final and options.index_starts:                 # other contours of the radius–index valley
            starts += [_start(row, ranges, n_p=float(np.clip(row["n_p_estimate"], *ranges["n_p"])) + step)
                       for step in (-_INDEX_STEP, _INDEX_STEP)]
        fit = _best_fit(crop, origin, starts, instrument, options.seed + i, timing)
        if final and options.index_starts and (not fit.success or fit.chi2_reduced > _RESCUE_CHI2):
            depth = float(np.clip(row["z_estimate"], *ranges["z_p"]))     # a poor fit: other depths too
            radius = float(np.clip(row["a_p_estimate"], *ranges["a_p"]))
            more = [_start(row, ranges, z=depth * factor) for factor in _DEPTH_FACTORS if depth * factor > radius]
            more += [_start(row, ranges, a_p=radius * factor) for factor in _RADIUS_FACTORS]
            other = _best_fit(crop, origin, more, instrument, options.seed + i, timing)
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
    timing.refinement += time.perf_counter() - start


def _best_fit(crop: np.ndarray, origin: tuple[float, float], starts: list[dict[str, float]], instrument: Instrument,
              seed: int, timing: Timing) -> Any:
    """The fit of least reduced χ² among fits of ``crop`` from each start (the first failure if all fail).

    A start whose centre lies beyond the crop (a fitted centre just past the frame's edge) starts
    at the crop's edge.
    """
    best = None
    rows, cols = crop.shape
    for begin in starts:
        begin = dict(begin, x=float(np.clip(begin["x"], origin[0] - 0.5, origin[0] + cols - 0.5)),
                     y=float(np.clip(begin["y"], origin[1] - 0.5, origin[1] + rows - 0.5)))
        if begin["n_p"] <= 0:
            continue
        fit = refine(crop, begin, instrument, origin=origin, seed=seed)
        timing.fits += 1
        if best is None or (fit.success and (not best.success or fit.chi2_reduced < best.chi2_reduced)):
            best = fit
    return best


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
