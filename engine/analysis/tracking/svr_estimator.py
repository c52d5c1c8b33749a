"""Fast estimates of a_p, n_p and z_p: support vector regression on radial profiles.

Yevick, Hannel & Grier, Opt. Express 22, 26884 (2014), "Machine-learning approach to
holographic particle characterization": the normalised hologram around a particle's centre is
reduced to its azimuthal average in 1-px rings (the radial profile), and one support vector
regressor per parameter (RBF kernel) maps the profile to the radius ``a_p`` (µm), the refractive
index ``n_p`` and the depth ``z_p`` (µm). About a thousand times faster than a fit, about ten
times less precise; the estimate then starts a refinement (:mod:`.refine`).

* :func:`radial_profile` — ring averages of crops about given centres (``np.bincount``, all
  crops at once). Ring ``k`` holds the pixels at distance ``k ≤ r < k + 1`` from the centre,
  ``k = 0 … radius − 1`` (ring 0 is never empty, wherever the centre lies in its pixel);
  distances in single precision (~0.2 ms a 201×201 crop).
* :func:`model_profiles` — the same profile straight from the forward model, without an image:
  a hologram is ``f₀(ρ) + f₁(ρ) g(φ)`` with ``g`` a combination of ``cos 2φ`` and ``sin 2φ``
  (:mod:`.crop_model` notes), so the average of :func:`.hologram.hologram_at` at φ = 0°, 45°,
  90° and 135° is ``f₀(ρ)`` exactly; ``f₀`` is averaged over each ring with the weight ``ρ``
  (area) on ``SUBSAMPLES`` radii. Equal to the ring average of a noise-free crop to ≲ 1e-3
  (``tests/test_analysis_tracking_svr.py``), at ~2 ms a particle instead of ~20 ms a crop.
  Pixel noise of standard deviation σ becomes ``σ / √(pixels in ring k)``, added the same way.
* :class:`SVREstimator` — ``fit(profiles, table) -> self``, ``predict(profiles) ->
  DataFrame(a_p, n_p, z_p)``; inputs standardised, targets standardised, one
  ``sklearn.svm.SVR`` per parameter. Prediction is evaluated here from the support vectors,
  dual coefficients, intercepts and ``γ`` (NumPy only), so a model saved as JSON
  (:meth:`SVREstimator.save`, :func:`load_estimator`; never pickled) predicts the same numbers.
  The file holds each distinct support vector once (the three regressors share most of theirs:
  a third of the size) with, per parameter, the indices of its vectors and their dual
  coefficients; ``save(path, decimals=d)`` rounds the stored (standardised) vectors to ``d``
  decimals, the one lossy choice (measured for the shipped model: :mod:`.svr_shipped`). Files
  of the first layout (one list of vectors per parameter) still load.
* :meth:`SVREstimator.predict_frame` — estimates at centres in a whole frame: rings cut by the
  frame's edge are averaged over the pixels inside it, rings wholly outside read 1 (the
  normalised background).
* :func:`training_set` — seeded profiles over the ranges of issue 13 (a_p 0.4–2 µm,
  n_p 1.38–1.8, z_p 10–40 µm, 5 % noise) with their truth table.

Units: profiles are normalised intensities (background 1); centres in px (column, row) of the
crop; ``a_p`` and ``z_p`` in µm.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .hologram import hologram_at
from .instrument import Instrument
from .sphere import Sphere

__all__ = ["FORMAT", "TARGETS", "SVREstimator", "frame_profiles", "load_estimator", "model_profiles",
           "radial_profile", "ring_counts", "same_instrument", "training_set"]

#: Identifier written into every saved estimator.
FORMAT = "matloop.tracking.svr-estimator"
_VERSION = 2
#: Parameters estimated, in this order (µm, —, µm).
TARGETS = ("a_p", "n_p", "z_p")
#: Radii per ring at which :func:`model_profiles` samples the model.
SUBSAMPLES = 6
#: Angles (rad) whose mean removes the ``cos 2φ, sin 2φ`` part of the hologram exactly.
_ANGLES = np.array([0.0, 0.25, 0.5, 0.75]) * np.pi
#: Crops per block of :func:`radial_profile`.
_CHUNK = 32


def ring_counts(radius: int) -> np.ndarray:
    """Pixels in each 1-px ring about a pixel centre, ``k = 0 … radius − 1``.

    Returns
    -------
    ndarray of int, shape (radius,)
    """
    radius = _checked_radius(radius)
    offsets = np.arange(-radius, radius + 1, dtype=float)
    rings = np.floor(np.hypot(*np.meshgrid(offsets, offsets))).astype(int).ravel()
    return np.bincount(rings[rings < radius], minlength=radius)


def radial_profile(crops: np.ndarray, centres: np.ndarray | None = None, radius: int = 100) -> np.ndarray:
    """Azimuthal averages of crops in 1-px rings about their centres (module notes).

    Parameters
    ----------
    crops : ndarray of float, shape (rows, columns) or (n, rows, columns)
        Normalised holograms, finite.
    centres : ndarray of float, shape (2,) or (n, 2), optional
        Centre ``(x, y)`` of each crop in its own pixels (column, row); default the middle of
        the crop, ``((columns − 1)/2, (rows − 1)/2)``.
    radius : int, default 100
        Number of rings, px (≥ 2).

    Returns
    -------
    ndarray of float, shape (radius,) or (n, radius)
        Mean intensity of ring ``k`` in column ``k``.

    Raises
    ------
    ValueError
        Crops not 2D or 3D or not finite, centres of the wrong shape or not finite, a bad
        radius, or a ring without pixels (the crop does not reach ``radius − 1`` px from the
        centre in every direction it needs).
    """
    radius = _checked_radius(radius)
    stack = np.asarray(crops, dtype=float)
    single = stack.ndim == 2
    if single:
        stack = stack[None]
    if stack.ndim != 3 or 0 in stack.shape:
        raise ValueError(f"crops must be an image (rows, columns) or a stack (n, rows, columns); "
                         f"got shape {np.shape(crops)}")
    if not np.all(np.isfinite(stack)):
        raise ValueError("crops must be finite (no NaN or inf pixels)")
    n, rows, cols = stack.shape
    if centres is None:
        xy = np.tile([(cols - 1) / 2, (rows - 1) / 2], (n, 1))
    else:
        xy = np.asarray(centres, dtype=float)
        xy = xy[None] if xy.shape == (2,) and single else xy
        if xy.shape != (n, 2):
            raise ValueError(f"centres must have shape ({n}, 2) (x, y in px per crop); got {np.shape(centres)}")
        if not np.all(np.isfinite(xy)):
            raise ValueError("centres must be finite")
    # distances in single precision: twice as fast; a pixel within ~1e-5 px of a ring's edge may
    # fall on either side of it (no effect on the profile beyond that pixel's share of a ring)
    x, y = np.arange(cols, dtype=np.float32), np.arange(rows, dtype=np.float32)
    xy32 = xy.astype(np.float32)
    bins = radius + 1                                        # the last bin gathers the pixels beyond
    sums, counts = np.empty((n, radius)), np.empty((n, radius), dtype=np.int64)
    for start in range(0, n, _CHUNK):                       # bounded memory: _CHUNK crops at a time
        part = slice(start, min(start + _CHUNK, n))
        m = part.stop - part.start
        d2 = (x[None, None, :] - xy32[part, 0, None, None]) ** 2 + (y[None, :, None] - xy32[part, 1, None, None]) ** 2
        rings = np.sqrt(d2, out=d2).astype(np.int64)        # floor of a distance ≥ 0
        np.minimum(rings, radius, out=rings)
        rings += bins * np.arange(m)[:, None, None]
        index = rings.ravel()
        sums[part] = np.bincount(index, weights=stack[part].ravel(), minlength=m * bins).reshape(m, bins)[:, :-1]
        counts[part] = np.bincount(index, minlength=m * bins).reshape(m, bins)[:, :-1]
    if np.any(counts == 0):
        crop, ring = np.argwhere(counts == 0)[0]
        raise ValueError(f"ring {ring} px of crop {crop} holds no pixel: the crop of shape {(rows, cols)} is too "
                         f"small for radius {radius} about centre ({xy[crop, 0]:.1f}, {xy[crop, 1]:.1f})")
    profiles = sums / counts
    return profiles[0] if single else profiles


def frame_profiles(frame: np.ndarray, centres: np.ndarray | pd.DataFrame, radius: int = 100) -> np.ndarray:
    """Radial profiles about centres in a whole frame, edges handled (module notes).

    Ring ``k`` is the mean of the frame's pixels at distance ``k ≤ r < k + 1``; a ring the
    frame's edge cuts is averaged over the pixels inside, a ring wholly outside reads 1 (the
    normalised background, as beyond the fringes).

    Parameters
    ----------
    frame : ndarray of float, shape (rows, columns)
        Normalised hologram, finite.
    centres : ndarray of float, shape (n, 2), or pandas.DataFrame with columns ``x, y``
        Centres, px (column, row), within the frame (``-0.5 … size − 0.5``).
    radius : int, default 100
        Number of rings, px.

    Returns
    -------
    ndarray of float, shape (n, radius)

    Raises
    ------
    ValueError
        A frame that is not a finite 2D image, centres of the wrong shape, not finite or outside.
    """
    radius = _checked_radius(radius)
    image = np.asarray(frame, dtype=float)
    if image.ndim != 2 or 0 in image.shape:
        raise ValueError(f"frame must be one image (rows, columns); got shape {np.shape(frame)}")
    if not np.all(np.isfinite(image)):
        raise ValueError("frame must be finite (no NaN or inf pixels)")
    if isinstance(centres, pd.DataFrame):
        if not {"x", "y"} <= set(centres.columns):
            raise ValueError(f"a centres table needs columns x, y (px); got {list(centres.columns)}")
        centres = centres[["x", "y"]].to_numpy(dtype=float)
    xy = np.asarray(centres, dtype=float).reshape(-1, 2) if np.size(centres) else np.empty((0, 2))
    rows, cols = image.shape
    if not np.all(np.isfinite(xy)):
        raise ValueError("centres must be finite")
    outside = (xy[:, 0] < -0.5) | (xy[:, 0] > cols - 0.5) | (xy[:, 1] < -0.5) | (xy[:, 1] > rows - 0.5)
    if np.any(outside):
        x, y = xy[np.argmax(outside)]
        raise ValueError(f"centre ({x:.1f}, {y:.1f}) px lies outside the frame of shape {(rows, cols)}")
    out = np.ones((len(xy), radius))
    for i, (x, y) in enumerate(xy):
        i0, i1 = max(int(np.floor(y)) - radius, 0), min(int(np.ceil(y)) + radius + 1, rows)
        j0, j1 = max(int(np.floor(x)) - radius, 0), min(int(np.ceil(x)) + radius + 1, cols)
        crop = image[i0:i1, j0:j1]
        # rings 0 … floor(farthest pixel distance) all hold pixels (neighbours differ by < 1 px)
        corners = np.hypot(np.array([j0, j1 - 1])[:, None] - x, np.array([i0, i1 - 1])[None, :] - y)
        reach = min(radius, int(np.floor(corners.max())) + 1)
        if reach >= 2:
            out[i, :reach] = radial_profile(crop, np.array([x - j0, y - i0]), reach)
        else:
            out[i, :1] = crop.mean()
    return out


def model_profiles(table: pd.DataFrame, instrument: Instrument, radius: int = 100, *, noise: float = 0.0,
                   seed: int | np.random.Generator = 0) -> np.ndarray:
    """Radial profiles of single spheres straight from the forward model (module notes).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``a_p`` (µm), ``n_p``, ``z_p`` (µm; or ``z``); one row per profile.
    instrument : Instrument
    radius : int, default 100
        Number of rings, px.
    noise : float, default 0
        Pixel noise of the crops imitated, relative to the background (≥ 0); ring ``k`` gets
        Gaussian noise of standard deviation ``noise / √(ring_counts(radius)[k])``.
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray of float, shape (len(table), radius)

    Raises
    ------
    ValueError
        Missing columns, a row that is not a valid sphere, a bad radius or noise.
    """
    radius = _checked_radius(radius)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0 (relative to the background); got {noise!r}")
    params = _parameter_table(table)
    # radii inside each ring (midpoints), weighted by the area they stand for
    rho = np.arange(radius)[:, None] + (np.arange(SUBSAMPLES)[None, :] + 0.5) / SUBSAMPLES
    weights = rho / rho.sum(axis=1, keepdims=True)
    px = (rho[..., None] * np.cos(_ANGLES)).ravel()
    py = (rho[..., None] * np.sin(_ANGLES)).ravel()
    out = np.empty((len(params), radius))
    for i, (a_p, n_p, z_p) in enumerate(params):
        values = hologram_at(px, py, Sphere(0.0, 0.0, z_p, a_p, n_p), instrument).reshape(radius, SUBSAMPLES, -1)
        out[i] = np.sum(values.mean(axis=2) * weights, axis=1)
    if noise > 0:
        rng = np.random.default_rng(seed)
        out += rng.normal(0.0, 1.0, out.shape) * (noise / np.sqrt(ring_counts(radius)))
    return out


def training_set(count: int, instrument: Instrument, radius: int = 100, *, noise: float = 0.05,
                 a_range: tuple[float, float] = (0.4, 2.0), n_range: tuple[float, float] = (1.38, 1.8),
                 z_range: tuple[float, float] = (10.0, 40.0),
                 seed: int | np.random.Generator = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Seeded random spheres (uniform in the ranges) and their noisy model profiles.

    Parameters
    ----------
    count : int
        Number of profiles, ≥ 1.
    instrument : Instrument
    radius : int, default 100
    noise : float, default 0.05
        As :func:`model_profiles`.
    a_range, n_range, z_range : (float, float)
        Radius (µm), index and depth (µm) ranges; defaults those of issue 13.
    seed : int or numpy.random.Generator

    Returns
    -------
    profiles : ndarray of float, shape (count, radius)
    table : pandas.DataFrame
        Columns ``a_p, n_p, z_p``.

    Raises
    ------
    ValueError
        ``count < 1``, or as :func:`model_profiles`.
    """
    if int(count) < 1:
        raise ValueError(f"count must be at least 1; got {count!r}")
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"a_p": rng.uniform(*a_range, int(count)), "n_p": rng.uniform(*n_range, int(count)),
                          "z_p": rng.uniform(*z_range, int(count))}, columns=list(TARGETS))
    return model_profiles(table, instrument, radius, noise=noise, seed=rng), table


class SVREstimator:
    """Support vector regression of ``a_p, n_p, z_p`` on radial profiles (Yevick et al. 2014).

    Parameters
    ----------
    C : float, default 10
        Penalty of each ``sklearn.svm.SVR`` (> 0), on standardised targets.
    gamma : float or None, default None
        RBF width on standardised profiles (> 0); default ``1 / radius`` (scikit-learn's
        ``"scale"`` for unit-variance inputs).
    epsilon : float, default 0.01
        Width of the insensitive tube, in standard deviations of each target (≥ 0).
    radius : int, default 100
        Profile length the estimator expects, px.
    instrument : Instrument, optional
        The microscope the training profiles describe (recorded in the saved file).

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (radius,)
        Input standardisation.
    target_mean_, target_scale_ : ndarray, shape (3,)
        Target standardisation (order :data:`TARGETS`).
    support_vectors_ : list of ndarray, shape (n_sv, radius)
    dual_coef_ : list of ndarray, shape (n_sv,)
    intercept_ : ndarray, shape (3,)
    gamma_ : float
    """

    def __init__(self, C: float = 10.0, gamma: float | None = None, epsilon: float = 0.01, radius: int = 100,
                 instrument: Instrument | None = None) -> None:
        if not (np.isfinite(C) and C > 0):
            raise ValueError(f"C must be a positive number; got {C!r}")
        if gamma is not None and not (np.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma must be a positive number or None; got {gamma!r}")
        if not (np.isfinite(epsilon) and epsilon >= 0):
            raise ValueError(f"epsilon must be a number >= 0; got {epsilon!r}")
        if instrument is not None and not isinstance(instrument, Instrument):
            raise ValueError(f"instrument must be an Instrument or None; got {type(instrument).__name__}")
        self.C, self.gamma, self.epsilon = float(C), gamma, float(epsilon)
        self.radius = _checked_radius(radius)
        self.instrument = instrument

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` (or :func:`load_estimator`) has set the learned attributes."""
        return hasattr(self, "support_vectors_")

    def fit(self, profiles: np.ndarray, table: pd.DataFrame) -> SVREstimator:
        """Train one RBF support vector regressor per parameter.

        Parameters
        ----------
        profiles : ndarray of float, shape (n, radius)
        table : pandas.DataFrame
            Columns ``a_p, n_p, z_p`` (or ``z``), n rows.

        Returns
        -------
        SVREstimator
            ``self``.

        Raises
        ------
        ValueError
            Profiles of the wrong shape or not finite, fewer than 2 rows, or a table that does
            not match.
        """
        from sklearn.svm import SVR

        X = self._checked_profiles(profiles)
        y = _parameter_table(table)
        if len(y) != len(X) or len(X) < 2:
            raise ValueError(f"need at least 2 profiles and one table row per profile; got {len(X)} profiles and "
                             f"{len(y)} rows")
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        self.target_mean_ = y.mean(axis=0)
        self.target_scale_ = np.where(y.std(axis=0) > 0, y.std(axis=0), 1.0)
        self.gamma_ = float(self.gamma) if self.gamma is not None else 1.0 / self.radius
        Z = (X - self.mean_) / self.scale_
        T = (y - self.target_mean_) / self.target_scale_
        vectors, coefs, intercepts = [], [], []
        for column in range(len(TARGETS)):
            svr = SVR(kernel="rbf", C=self.C, gamma=self.gamma_, epsilon=self.epsilon).fit(Z, T[:, column])
            vectors.append(np.array(svr.support_vectors_))
            coefs.append(np.array(svr.dual_coef_[0]))
            intercepts.append(float(svr.intercept_[0]))
        self.support_vectors_, self.dual_coef_, self.intercept_ = vectors, coefs, np.array(intercepts)
        return self

    def predict(self, profiles: np.ndarray) -> pd.DataFrame:
        """Estimates for radial profiles.

        Parameters
        ----------
        profiles : ndarray of float, shape (n, radius) or (radius,)

        Returns
        -------
        pandas.DataFrame
            Columns ``a_p`` (µm), ``n_p``, ``z_p`` (µm); n rows.

        Raises
        ------
        ValueError
            Not fitted, or profiles of the wrong shape or not finite.
        """
        if not self.fitted:
            raise ValueError("this SVREstimator is not trained: call fit(profiles, table) or load_estimator(path)")
        Z = (self._checked_profiles(profiles) - self.mean_) / self.scale_
        out = np.empty((len(Z), len(TARGETS)))
        z2 = np.sum(Z**2, axis=1)[:, None]
        for column, (vectors, coef) in enumerate(zip(self.support_vectors_, self.dual_coef_)):
            d2 = np.maximum(z2 + np.sum(vectors**2, axis=1)[None, :] - 2.0 * Z @ vectors.T, 0.0)
            out[:, column] = np.exp(-self.gamma_ * d2) @ coef + self.intercept_[column]
        return pd.DataFrame(out * self.target_scale_ + self.target_mean_, columns=list(TARGETS))

    def predict_crops(self, crops: np.ndarray, centres: np.ndarray | None = None) -> pd.DataFrame:
        """:func:`radial_profile` of crops, then :meth:`predict` (same arguments and errors)."""
        return self.predict(np.atleast_2d(radial_profile(crops, centres, self.radius)))

    def predict_frame(self, frame: np.ndarray, centres: np.ndarray | pd.DataFrame, *,
                      instrument: Instrument | None = None) -> pd.DataFrame:
        """Estimates for particles of one frame at the given centres (e.g. from a detector).

        Parameters
        ----------
        frame : ndarray of float, shape (rows, columns)
            Normalised hologram, finite.
        centres : ndarray of float, shape (n, 2), or pandas.DataFrame with columns ``x, y``
            Centres, px (column, row), inside the frame; may be empty.
        instrument : Instrument, optional
            The frame's microscope; refused when it differs from the one trained for.

        Returns
        -------
        pandas.DataFrame
            Columns ``a_p`` (µm), ``n_p``, ``z_p`` (µm); one row per centre, in order.

        Raises
        ------
        ValueError
            Another instrument, a frame that is not a finite 2D image, or centres that are not
            finite or lie outside the frame.
        """
        self.check_instrument(instrument)
        return self.predict(frame_profiles(frame, centres, self.radius)) if len(centres) else \
            pd.DataFrame(np.empty((0, len(TARGETS))), columns=list(TARGETS))

    def check_instrument(self, instrument: Instrument | None) -> None:
        """``ValueError`` unless ``instrument`` is None or matches :attr:`instrument` (to 1e-9).

        An estimator trained without an instrument accepts any.
        """
        if instrument is None or self.instrument is None:
            return
        if not isinstance(instrument, Instrument):
            raise ValueError(f"instrument must be an Instrument; got {type(instrument).__name__}")
        if not same_instrument(self.instrument, instrument):
            mine = self.instrument
            raise ValueError(f"this SVR estimator was trained for λ = {mine.wavelength:g} µm, "
                             f"{mine.magnification:g} µm/px, n_m = {mine.n_m:g}; the frame's instrument is "
                             f"λ = {instrument.wavelength:g} µm, {instrument.magnification:g} µm/px, "
                             f"n_m = {instrument.n_m:g} (train one for it: svr_shipped.estimator_for)")

    def to_dict(self, decimals: int | None = None) -> dict[str, Any]:
        """Plain record of the trained estimator (numbers and lists only; module notes).

        Parameters
        ----------
        decimals : int, optional
            Round the stored support vectors (standardised profiles, values of order 1) to this
            many decimals; default: exact (floats round-trip).
        """
        if not self.fitted:
            raise ValueError("this SVREstimator is not trained: nothing to save")
        if decimals is not None and not (isinstance(decimals, (int, np.integer)) and 0 <= decimals <= 17):
            raise ValueError(f"decimals must be an integer 0-17 or None; got {decimals!r}")
        instrument = None if self.instrument is None else {
            "wavelength": self.instrument.wavelength, "magnification": self.instrument.magnification,
            "n_m": self.instrument.n_m,
            "polarization": [[complex(p).real, complex(p).imag] for p in self.instrument.polarization]}
        # each distinct vector once; row order of every regressor kept (identical predictions)
        vectors, inverse = np.unique(np.concatenate(self.support_vectors_), axis=0, return_inverse=True)
        bounds = np.cumsum([0, *(len(v) for v in self.support_vectors_)])
        support = [inverse.ravel()[bounds[k]:bounds[k + 1]].tolist() for k in range(len(TARGETS))]
        if decimals is not None:
            vectors = np.round(vectors, int(decimals))
        return {
            "format": FORMAT, "version": _VERSION, "targets": list(TARGETS), "radius": self.radius,
            "C": self.C, "epsilon": self.epsilon, "gamma": self.gamma_, "instrument": instrument,
            "decimals": None if decimals is None else int(decimals),
            "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
            "target_mean": self.target_mean_.tolist(), "target_scale": self.target_scale_.tolist(),
            "vectors": vectors.tolist(), "support": support,
            "dual_coef": [c.tolist() for c in self.dual_coef_], "intercept": self.intercept_.tolist(),
        }

    def save(self, path: str | Path, decimals: int | None = None, **extra: Any) -> Path:
        """Write :meth:`to_dict` as JSON; returns the path.

        Parameters
        ----------
        path : path-like
        decimals : int, optional
            As :meth:`to_dict` (default exact).
        **extra
            Further JSON-serialisable entries (e.g. provenance), stored beside the model.
        """
        path = Path(path)
        record = self.to_dict(decimals)
        clash = sorted(set(extra) & set(record))
        if clash:
            raise ValueError(f"extra entries may not replace the model's own: {', '.join(clash)}")
        path.write_text(json.dumps({**record, **extra}, separators=(",", ":")))
        return path

    def _checked_profiles(self, profiles: np.ndarray) -> np.ndarray:
        X = np.asarray(profiles, dtype=float)
        X = X[None] if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != self.radius or len(X) == 0:
            raise ValueError(f"profiles must have shape (n, {self.radius}) (one ring average per px of radius); "
                             f"got {np.shape(profiles)}")
        if not np.all(np.isfinite(X)):
            raise ValueError("profiles must be finite (no NaN or inf)")
        return X


def load_estimator(path: str | Path) -> SVREstimator:
    """Read an estimator written by :meth:`SVREstimator.save`.

    Raises
    ------
    ValueError
        Not such a file, or damaged (missing keys, inconsistent sizes, non-finite numbers).
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: not an estimator file ({exc})") from None
    return estimator_from_dict(record, path.name)


def estimator_from_dict(record: Any, where: str = "estimator record") -> SVREstimator:
    """Rebuild an :class:`SVREstimator` from :meth:`SVREstimator.to_dict` (errors as :func:`load_estimator`)."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{where}: not a matloop SVR estimator (format {FORMAT!r} expected)")
    layout = ("support_vectors",) if record.get("version", 1) == 1 else ("vectors", "support")
    keys = ("radius", "C", "epsilon", "gamma", "instrument", "mean", "scale", "target_mean", "target_scale",
            *layout, "dual_coef", "intercept")
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"{where}: damaged estimator file: missing {', '.join(missing)}")
    try:
        instrument = None
        if record["instrument"] is not None:
            spec = record["instrument"]
            instrument = Instrument(spec["wavelength"], spec["magnification"], spec["n_m"],
                                    tuple(complex(re, im) for re, im in spec["polarization"]))
        estimator = SVREstimator(record["C"], record["gamma"], record["epsilon"], int(record["radius"]), instrument)
        radius = estimator.radius
        estimator.mean_, estimator.scale_ = (np.asarray(record[k], dtype=float) for k in ("mean", "scale"))
        estimator.target_mean_, estimator.target_scale_ = (np.asarray(record[k], dtype=float)
                                                           for k in ("target_mean", "target_scale"))
        estimator.gamma_ = float(record["gamma"])
        if "support_vectors" in layout:
            vectors = [np.asarray(v, dtype=float).reshape(-1, radius) for v in record["support_vectors"]]
        else:
            shared = np.asarray(record["vectors"], dtype=float).reshape(-1, radius)
            indices = [np.asarray(i, dtype=np.int64).ravel() for i in record["support"]]
            if any(i.size and (i.min() < 0 or i.max() >= len(shared)) for i in indices):
                raise ValueError("support indices outside the stored vectors")
            vectors = [shared[i] for i in indices]
        coefs = [np.asarray(c, dtype=float).ravel() for c in record["dual_coef"]]
        intercept = np.asarray(record["intercept"], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: damaged estimator file ({exc})") from None
    shapes_ok = (estimator.mean_.shape == estimator.scale_.shape == (radius,)
                 and estimator.target_mean_.shape == estimator.target_scale_.shape == intercept.shape
                 == (len(TARGETS),) and len(vectors) == len(coefs) == len(TARGETS)
                 and all(len(v) == len(c) for v, c in zip(vectors, coefs)))
    if not shapes_ok:
        raise ValueError(f"{where}: damaged estimator file: array sizes do not match radius {radius} and "
                         f"{len(TARGETS)} targets")
    arrays = [estimator.mean_, estimator.scale_, estimator.target_mean_, estimator.target_scale_, intercept,
              *vectors, *coefs]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ValueError(f"{where}: damaged estimator file: non-finite numbers")
    estimator.support_vectors_, estimator.dual_coef_, estimator.intercept_ = vectors, coefs, intercept
    return estimator


def same_instrument(first: Instrument, second: Instrument, rel_tol: float = 1e-9) -> bool:
    """Whether two instruments agree in wavelength, magnification, medium index and polarisation."""
    numbers = all(math.isclose(getattr(first, k), getattr(second, k), rel_tol=rel_tol)
                  for k in ("wavelength", "magnification", "n_m"))
    return numbers and all(abs(complex(p) - complex(q)) <= rel_tol
                           for p, q in zip(first.polarization, second.polarization))


def _parameter_table(table: pd.DataFrame) -> np.ndarray:
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"expected a DataFrame with columns {list(TARGETS)}; got {type(table).__name__}")
    if "z_p" not in table.columns and "z" in table.columns:
        table = table.rename(columns={"z": "z_p"})
    missing = [c for c in TARGETS if c not in table.columns]
    if missing:
        raise ValueError(f"table needs columns {list(TARGETS)} (z_p may be called z); missing {missing}")
    values = table.loc[:, list(TARGETS)].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("table values a_p, n_p, z_p must be finite")
    return values


def _checked_radius(radius: int) -> int:
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 2:
        raise ValueError(f"radius must be an integer >= 2 (px); got {radius!r}")
    return int(radius)
