"""Fast estimates of a_p, n_p and z_p: a convolutional network on the crop around each particle.

Altman & Grier, J. Phys. Chem. B 124, 1602 (2020), "CATCH: characterizing and tracking colloids
holographically using deep neural networks": a CNN reads the normalised hologram around a
detected centre and regresses the radius ``a_p`` (µm), the refractive index ``n_p`` and the
depth ``z_p`` (µm); its estimates start a refinement (:mod:`.refine`). CATCH's own evaluation
on 100 synthetic holograms, the bar of issue 13: RMSE 0.23 µm in ``a_p``, 0.13 in ``n_p``, 47 px
in ``z_p``. Measured for the shipped model on 600 held-out 301×301 holograms of the issue
(:func:`.hologram.hologram`, a_p 0.4–2 µm, n_p 1.38–1.8, z_p 10–40 µm, λ = 0.447 µm,
0.048 µm/px, n_m = 1.34, 5 % noise; ``tests/benchmarks/bench_tracking_estimation.py``):

==========================  =========  ======  ===============  ==========================
estimator                   a_p µm     n_p     z_p µm (px)      95th pct a_p, n_p, z_p µm
==========================  =========  ======  ===============  ==========================
CATCH (published)           0.23       0.13    2.26 (47)        —
CNN, exact centres          0.013      0.008   0.27 (5.7)       0.025, 0.017, 0.52
CNN, detected centres       0.013      0.008   0.28 (5.9)       0.025, 0.016, 0.56
SVR shipped, detected       0.023      0.031   0.64 (13.3)      0.046, 0.070, 1.12
==========================  =========  ======  ===============  ==========================

(detected: :func:`.detection.locate_rings`, RMS centre error 0.27 px). On 200 of them, centres
moved 1, 2, 3, 5 px: z_p RMSE 6.2, 6.9, 7.5, 12 px (the SVR: 13, 16, 29, 81 px); camera noise
0 %, 2 %, 10 %: 5.6, 5.4, 7.9 px. Speed (``tests/benchmarks/bench_tracking.py``, batch of 512
201×201 crops, one thread): ~6000 particles/s, windows included (the network alone ~16 000/s),
~1600× faster than a refinement fit timed in the same run.

Input: a fixed window, not the detector's crop size
---------------------------------------------------
CATCH resamples each detector crop, whatever its size, to a fixed image, so the size of an
input pixel in the focal plane varies from crop to crop. Here the network always sees the same
field of view:
:data:`WINDOW` = 201 camera pixels (9.6 µm at 0.048 µm/px) about the pixel nearest the detected
centre, averaged over 3 × 3 blocks (:data:`BIN`) into a 67 × 67 image (:func:`network_input`).
One input pixel is therefore always 0.144 µm of the focal plane, and the fringe spacing that
tells ``z_p`` means the same thing in every crop. 201 px is the window of the SVR estimator
(100 rings, :mod:`.svr_estimator`), which already reaches the issue's accuracy; the detector's
crop size (:func:`.detection.locate_rings`, 101–401 px, set by where the fringes fade into
the noise) is not needed. The finest fringes in the window (z_p = 10 µm, 100 px out) have a
period of ~16 camera px, 5.3 input px: the 3 × 3 mean keeps 94 % of their contrast and cuts
the pixel noise threefold. Window pixels outside the image read 1 (the normalised background);
training windows never reach an edge, so estimates for particles within 100 px of one are less
reliable (not measured).
A trained network belongs to the instrument it was trained for (wavelength, magnification,
medium; :attr:`CNNEstimator.instrument`); :meth:`CNNEstimator.predict_frame` refuses another.

Training data
-------------
:func:`model_windows` draws the 201 × 201 hologram of each sphere with :class:`.crop_model.
CropModel` (the refinement's single-sphere model, equal to :func:`.hologram.hologram` to
~1e-9; ``tests/test_analysis_tracking_cnn_estimator.py`` checks the binned windows against
:func:`.hologram.hologram`) and bins it, ~13 ms a sphere on one core. The true centre lies up
to :data:`JITTER` = 1.5 px from the window's middle pixel in x and y (uniform): half a pixel of
rounding plus a detector error of ~1 px. Windows are stored noise-free; :meth:`CNNEstimator.fit`
adds fresh Gaussian noise to every batch (camera noise σ uniform in ``noise``, 2–8 % by
default, so ``σ / 3`` per input pixel after the 3 × 3 mean, which is exact for white noise), and,
when the illumination is symmetric under the mirror images ``x → −x`` and ``y → −y`` (the
Stokes parameter ``s₂ = 0``, e.g. polarisation along x or y; :mod:`.crop_model` notes), flips
each window at random with its offset: the same data seen with new noise and orientation every
epoch.

Network
-------
:data:`ARCHITECTURE`: a 5 × 5 convolution with stride 3 (16 channels, 67 → 23 px), then two
3 × 3 convolutions (32, 64 channels), each followed by ReLU and 2 × 2 max pooling (23 → 11 → 5
→ 2 px), a 128-unit ReLU layer and three outputs (standardised ``a_p, n_p, z_p``); 56 835
weights, 0.23 MB. Trained with AdamW on the mean squared error of the standardised targets,
one-cycle cosine learning rate. Prediction runs in batches of 128 (``torch.inference_mode``,
channels-last activations), on the CPU or a CUDA device. Chosen for speed: the same recipe with
a stride-2 first layer and a fourth convolution (93 763 weights) reached 0.012 µm, 0.007 and
4.5 px on the same 600 holograms but ran 3–5× slower (~270× a refinement fit instead of the
issue's 1000×).

Shipped model
-------------
``models/cnn_estimator.pt`` (a ``torch.save`` of tensors, numbers and strings only, read with
``torch.load(..., weights_only=True)``): weights, input and target standardisation,
instrument, window geometry, :data:`TRAINING_RECIPE` and library versions. :func:`load_shipped_
estimator` reads it; :func:`train_shipped_estimator` (or ``python -m engine.analysis.tracking.
cnn_estimator``) regenerates it, seeded: 30 000 training windows (seed 0), 20 epochs of batches
of 64. Measured here on one thread (``nice``, 2 shared cores under a load of 7–13): the windows
~530 s (kept in ``runs/cnn_estimator_cache``, git-ignored, for reruns), the training 320 s.

Units: images are normalised holograms (background 1); centres in px (column ``x``, row
``y``) of the image they are given in; ``a_p`` and ``z_p`` in µm.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle  # only for the error type of a damaged file; nothing is unpickled
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from engine.runtime.device import resolve_device

from .crop_model import CropModel
from .instrument import Instrument

__all__ = [
    "ARCHITECTURE", "BIN", "FORMAT", "JITTER", "PIXELS", "SHIPPED_ESTIMATOR", "TARGETS", "TRAINING_RECIPE",
    "WINDOW", "CNNEstimator", "load_cnn_estimator", "load_shipped_estimator", "model_windows", "network_input",
    "train_shipped_estimator", "training_windows",
]

#: Identifier written into every saved estimator.
FORMAT = "matloop.tracking.cnn-estimator"
_VERSION = 1
#: Parameters estimated, in this order (µm, —, µm); the columns of every prediction.
TARGETS = ("a_p", "n_p", "z_p")
#: Side of the window about each centre, camera px (odd: the centre pixel is the middle one).
WINDOW = 201
#: Side of the blocks averaged into one network pixel, camera px.
BIN = 3
#: Side of the network's input image, px (``WINDOW // BIN``).
PIXELS = WINDOW // BIN
#: Largest offset (px, in x and in y) of a training sphere from its window's middle pixel.
JITTER = 1.5
#: Convolution channels and hidden units of the network (module notes).
ARCHITECTURE: dict[str, Any] = {"channels": [16, 32, 64], "first_kernel": 5, "first_stride": 3, "hidden": 128}
#: The shipped model.
SHIPPED_ESTIMATOR = Path(__file__).parent / "models" / "cnn_estimator.pt"
#: The microscope of issue 13, for which the shipped model is trained.
MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)

#: How the shipped model was trained (arguments of :func:`training_windows` and
#: :class:`CNNEstimator`); the saved file adds what it took (``measured``).
TRAINING_RECIPE: dict[str, Any] = {
    "training_windows": {"count": 30000, "a_range": [0.4, 2.0], "n_range": [1.38, 1.8], "z_range": [10.0, 40.0],
                         "jitter": JITTER, "seed": 0},
    "CNNEstimator": {"epochs": 20, "batch_size": 64, "learning_rate": 2e-3, "weight_decay": 1e-4,
                     "noise": [0.02, 0.08], "flips": True, "random_state": 0},
    "instrument": {"wavelength": 0.447, "magnification": 0.048, "n_m": 1.34},
}


# --- inputs ---------------------------------------------------------------------------------------

def network_input(images: np.ndarray, centres: np.ndarray | None = None) -> np.ndarray:
    """The network's input for each particle: its :data:`WINDOW`-px window, 3 × 3 block means.

    The window is centred on the pixel nearest each centre (``floor(x + 0.5)``,
    ``floor(y + 0.5)``); pixels outside the image read 1, the normalised background.

    Parameters
    ----------
    images : ndarray of float, shape (rows, columns) or (n, rows, columns)
        One frame (every centre is cut from it) or a stack of crops (one centre per crop);
        normalised holograms, finite.
    centres : ndarray of float, shape (2,) or (n, 2), optional
        Centres ``(x, y)``, px (column, row) of the image they belong to. For a stack the default
        is the middle of each crop, ``((columns − 1)/2, (rows − 1)/2)``; a single frame needs
        them.

    Returns
    -------
    ndarray of float32, shape (n, PIXELS, PIXELS)
        Mean intensity of each 3 × 3 block; block ``(i, j)`` is centred ``3 (j − 33)``,
        ``3 (i − 33)`` px from the window's middle pixel.

    Raises
    ------
    ValueError
        Images not 2D or 3D, empty or not finite; centres of the wrong shape, not finite, or
        outside their image.
    """
    stack = np.asarray(images)
    if stack.ndim not in (2, 3) or 0 in stack.shape:
        raise ValueError(f"images must be a frame (rows, columns) or a stack of crops (n, rows, columns); "
                         f"got shape {np.shape(images)}")
    if not np.issubdtype(stack.dtype, np.number) or np.iscomplexobj(stack):
        raise ValueError(f"images must hold real numbers; got dtype {stack.dtype}")
    if not np.all(np.isfinite(stack)):
        raise ValueError("images must be finite (no NaN or inf pixels)")
    frame = stack.ndim == 2
    rows, cols = stack.shape[-2:]
    if centres is None:
        if frame:
            raise ValueError("a single frame needs centres (n, 2): the (x, y) px of each particle")
        xy = np.tile([(cols - 1) / 2, (rows - 1) / 2], (len(stack), 1))
    else:
        xy = np.asarray(centres, dtype=float)
        if xy.shape == (2,):
            xy = xy[None]
        n_expected = None if frame else len(stack)
        if xy.ndim != 2 or xy.shape[1] != 2 or (n_expected is not None and len(xy) != n_expected) or len(xy) == 0:
            what = "(n, 2) with n ≥ 1" if frame else f"({n_expected}, 2), one per crop"
            raise ValueError(f"centres must have shape {what} (x, y px); got {np.shape(centres)}")
        if not np.all(np.isfinite(xy)):
            raise ValueError("centres must be finite")
        outside = (xy[:, 0] < -0.5) | (xy[:, 0] > cols - 0.5) | (xy[:, 1] < -0.5) | (xy[:, 1] > rows - 0.5)
        if np.any(outside):
            k = int(np.argmax(outside))
            raise ValueError(f"centre {k} ({xy[k, 0]:.1f}, {xy[k, 1]:.1f}) px lies outside its image of shape "
                             f"{(rows, cols)}")
    n = len(xy)
    middle = np.floor(xy + 0.5).astype(int)                                # (column, row) of the middle pixel
    half = WINDOW // 2
    out = np.empty((n, PIXELS, PIXELS), dtype=np.float32)
    padded = np.empty((WINDOW, WINDOW))
    strips, blocks = np.empty((PIXELS, WINDOW)), np.empty((PIXELS, PIXELS))
    for k in range(n):
        image = stack if frame else stack[k]
        c, r = middle[k]
        r0, r1, c0, c1 = r - half, r + half + 1, c - half, c + half + 1
        rr0, rr1, cc0, cc1 = max(r0, 0), min(r1, rows), max(c0, 0), min(c1, cols)
        if (rr0, rr1, cc0, cc1) == (r0, r1, c0, c1):
            window = image[r0:r1, c0:c1]
        else:                                                   # the window reaches beyond the image
            padded.fill(1.0)
            padded[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0] = image[rr0:rr1, cc0:cc1]
            window = padded
        # 3 × 3 block sums as strided slices, rows then columns, into buffers: no copy of the
        # window; measured ~8× faster than a mean over the axes of window.reshape(67, 3, 67, 3)
        np.add(window[0::BIN], window[1::BIN], out=strips)
        np.add(strips, window[2::BIN], out=strips)
        np.add(strips[:, 0::BIN], strips[:, 1::BIN], out=blocks)
        np.add(blocks, strips[:, 2::BIN], out=blocks)
        np.multiply(blocks, 1.0 / BIN**2, out=out[k], casting="same_kind")
    return out


def model_windows(table: pd.DataFrame, instrument: Instrument) -> np.ndarray:
    """Noise-free network inputs of single spheres from the forward model (module notes).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``a_p`` (µm), ``n_p``, ``z_p`` (µm; or ``z``) and optionally ``dx, dy``: the
        sphere's offset from the window's middle pixel, px (default 0). One row per window.
    instrument : Instrument

    Returns
    -------
    ndarray of float32, shape (len(table), PIXELS, PIXELS)
        Equal to ``network_input(hologram((201, 201), Sphere(100 + dx, 100 + dy, z_p, a_p,
        n_p), instrument))`` to ~1e-7 (float32 rounding).

    Raises
    ------
    ValueError
        Missing columns, non-finite values or a row that is not a valid sphere.
    """
    if not isinstance(instrument, Instrument):
        raise ValueError(f"instrument must be an Instrument; got {type(instrument).__name__}")
    params = _parameter_table(table)
    offsets = np.zeros((len(params), 2))
    for j, name in enumerate(("dx", "dy")):
        if name in table.columns:
            offsets[:, j] = table[name].to_numpy(dtype=float)
    if not np.all(np.isfinite(offsets)):
        raise ValueError("offsets dx, dy must be finite (px)")
    half = WINDOW // 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(float)
    model = CropModel(x.ravel(), y.ravel(), instrument)
    out = np.empty((len(params), PIXELS, PIXELS), dtype=np.float32)
    for i, ((a_p, n_p, z_p), (dx, dy)) in enumerate(zip(params, offsets)):
        values = model.hologram([dx, dy, z_p, a_p, n_p, 1.0]).reshape(PIXELS, BIN, PIXELS, BIN)
        out[i] = values.mean(axis=(1, 3))
    return out


def training_windows(count: int, instrument: Instrument, *, a_range: tuple[float, float] = (0.4, 2.0),
                     n_range: tuple[float, float] = (1.38, 1.8), z_range: tuple[float, float] = (10.0, 40.0),
                     jitter: float = JITTER, seed: int | np.random.Generator = 0,
                     progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Seeded random spheres (uniform in the ranges) and their noise-free network inputs.

    Parameters
    ----------
    count : int
        Number of windows, ≥ 1.
    instrument : Instrument
    a_range, n_range, z_range : (float, float)
        Radius (µm), index and depth (µm) ranges; defaults those of issue 13.
    jitter : float, default :data:`JITTER`
        Offsets ``dx, dy`` of the sphere from the window's middle pixel are uniform in
        ``[−jitter, jitter]`` px (≥ 0).
    seed : int or numpy.random.Generator
    progress : callable, optional
        Called as ``progress(done, count)`` every 1000 windows.

    Returns
    -------
    windows : ndarray of float32, shape (count, PIXELS, PIXELS)
    table : pandas.DataFrame
        Columns ``a_p, n_p, z_p, dx, dy``.

    Raises
    ------
    ValueError
        ``count < 1``, a bad range or jitter, or as :func:`model_windows`.
    """
    if isinstance(count, bool) or int(count) < 1:
        raise ValueError(f"count must be at least 1; got {count!r}")
    for name, (low, high) in (("a_range", a_range), ("n_range", n_range), ("z_range", z_range)):
        if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
            raise ValueError(f"{name} must be (low, high) with 0 < low <= high; got {(low, high)}")
    if not (np.isfinite(jitter) and jitter >= 0):
        raise ValueError(f"jitter must be a finite number >= 0 (px); got {jitter!r}")
    rng = np.random.default_rng(seed)
    count = int(count)
    table = pd.DataFrame({"a_p": rng.uniform(*a_range, count), "n_p": rng.uniform(*n_range, count),
                          "z_p": rng.uniform(*z_range, count), "dx": rng.uniform(-jitter, jitter, count),
                          "dy": rng.uniform(-jitter, jitter, count)})
    windows = np.empty((count, PIXELS, PIXELS), dtype=np.float32)
    for start in range(0, count, 1000):
        stop = min(start + 1000, count)
        windows[start:stop] = model_windows(table.iloc[start:stop], instrument)
        if progress is not None:
            progress(stop, count)
    return windows, table


# --- the estimator --------------------------------------------------------------------------------

def _network(architecture: dict[str, Any]) -> nn.Sequential:
    """The CNN of :data:`ARCHITECTURE` for a 1 × PIXELS × PIXELS input, three outputs."""
    channels = [int(c) for c in architecture["channels"]]
    kernel, stride = int(architecture["first_kernel"]), int(architecture["first_stride"])
    layers: list[nn.Module] = [nn.Conv2d(1, channels[0], kernel, stride=stride, padding=kernel // 2), nn.ReLU(),
                               nn.MaxPool2d(2)]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    features = nn.Sequential(*layers)
    with torch.no_grad():
        size = features(torch.zeros(1, 1, PIXELS, PIXELS)).numel()
    hidden = int(architecture["hidden"])
    return nn.Sequential(features, nn.Flatten(), nn.Linear(size, hidden), nn.ReLU(), nn.Linear(hidden, len(TARGETS)))


class CNNEstimator:
    """Convolutional network estimating ``a_p, n_p, z_p`` from the window about a centre.

    Parameters
    ----------
    epochs : int, default 20
        Passes over the training windows (≥ 1).
    batch_size : int, default 64
    learning_rate : float, default 2e-3
        Peak AdamW learning rate (cosine decay to zero over the epochs).
    weight_decay : float, default 1e-4
        AdamW weight decay.
    noise : (float, float), default (0.02, 0.08)
        Range of the camera noise σ (relative to the background) added to each training window
        afresh in every batch, uniform per window; ``(0, 0)`` for windows that are noisy already.
    flips : bool, default True
        Mirror training windows at random in x and y (with their offsets) when the instrument's
        illumination allows it (module notes); ignored otherwise.
    random_state : int, default 0
        Seeds the weights, the batch order, the noise and the flips.
    instrument : Instrument, optional
        The microscope the windows describe (default that of issue 13); recorded in the model.
    device : str, default "cpu"
        Where :meth:`fit` trains (``"auto"``, ``"cpu"``, ``"cuda"``).

    Attributes
    ----------
    network_ : torch.nn.Sequential
    input_mean_, input_scale_ : float
        Input standardisation ``(window − mean) / scale`` (intensity units).
    target_mean_, target_scale_ : ndarray, shape (3,)
        Target standardisation, order :data:`TARGETS` (µm, —, µm).
    ranges_ : dict of str to (float, float)
        Smallest and largest training value of each target (µm, —, µm): estimates outside mean
        extrapolation (a pipeline clips them before a fit).
    training_seconds_ : float
        Wall time of :meth:`fit`, s.
    """

    def __init__(self, epochs: int = 20, batch_size: int = 64, learning_rate: float = 2e-3,
                 weight_decay: float = 1e-4, noise: tuple[float, float] = (0.02, 0.08), flips: bool = True,
                 random_state: int = 0, instrument: Instrument | None = None, device: str = "cpu") -> None:
        if isinstance(epochs, bool) or int(epochs) < 1 or isinstance(batch_size, bool) or int(batch_size) < 1:
            raise ValueError(f"epochs and batch_size must be positive integers; got {epochs!r}, {batch_size!r}")
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number; got {learning_rate!r}")
        if not (np.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be a number >= 0; got {weight_decay!r}")
        low, high = (float(v) for v in noise)
        if not (np.isfinite(low) and np.isfinite(high) and 0 <= low <= high):
            raise ValueError(f"noise must be (low, high) with 0 <= low <= high (relative σ); got {noise!r}")
        if instrument is not None and not isinstance(instrument, Instrument):
            raise ValueError(f"instrument must be an Instrument or None; got {type(instrument).__name__}")
        self.epochs, self.batch_size = int(epochs), int(batch_size)
        self.learning_rate, self.weight_decay = float(learning_rate), float(weight_decay)
        self.noise, self.flips, self.random_state = (low, high), bool(flips), int(random_state)
        self.instrument = MICROSCOPE if instrument is None else instrument
        self.device = device

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` (or a load) has set the learned attributes."""
        return hasattr(self, "network_")

    # --- training ---------------------------------------------------------------------------------

    def fit(self, windows: np.ndarray, table: pd.DataFrame, *,
            validation: tuple[np.ndarray, pd.DataFrame] | None = None,
            progress: Callable[[int, float, dict[str, float] | None], None] | None = None) -> CNNEstimator:
        """Train the network on windows (noise-free: noise is added per batch) and their truth.

        Parameters
        ----------
        windows : ndarray of float, shape (n, PIXELS, PIXELS)
            Network inputs (:func:`training_windows`, :func:`model_windows`).
        table : pandas.DataFrame
            Columns ``a_p, n_p, z_p`` (or ``z``), n rows; ``dx``, ``dy`` (px) if present are
            mirrored with the windows (otherwise they are not needed).
        validation : (windows, table), optional
            Noisy windows scored after every epoch (RMSE per target, handed to ``progress``).
        progress : callable, optional
            Called as ``progress(epoch, mean_training_loss, validation_rmse_or_None)``.

        Returns
        -------
        CNNEstimator
            ``self``.

        Raises
        ------
        ValueError
            Windows of the wrong shape or not finite, fewer than 2 rows, or a table that does
            not match.
        """
        X = self._checked_windows(windows)
        y = _parameter_table(table)
        if len(y) != len(X) or len(X) < 2:
            raise ValueError(f"need at least 2 windows and one table row per window; got {len(X)} windows and "
                             f"{len(y)} rows")
        start_time = time.perf_counter()
        device = resolve_device(self.device)
        bin_noise = np.array(self.noise) / BIN                                # σ of a 3 × 3 block mean
        self.input_mean_ = float(X.mean(dtype=np.float64))
        noise_var = (bin_noise[0] ** 2 + bin_noise[0] * bin_noise[1] + bin_noise[1] ** 2) / 3   # E[σ²], σ uniform
        self.input_scale_ = float(np.sqrt(X.var(dtype=np.float64) + noise_var))
        self.target_mean_ = y.mean(axis=0)
        self.target_scale_ = np.where(y.std(axis=0) > 0, y.std(axis=0), 1.0)
        self.ranges_ = {c: (float(y[:, j].min()), float(y[:, j].max())) for j, c in enumerate(TARGETS)}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            self.network_ = _network(ARCHITECTURE)
        network = self.network_.to(device)
        generator = torch.Generator().manual_seed(self.random_state)
        data = torch.from_numpy(X).to(device)
        targets = torch.from_numpy(((y - self.target_mean_) / self.target_scale_).astype(np.float32)).to(device)
        px, py = self.instrument.polarization
        mirror = self.flips and abs(2.0 * (px.conjugate() * py).real) < 1e-12
        optimiser = torch.optim.AdamW(network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        steps = self.epochs * math.ceil(len(X) / self.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=self.learning_rate, total_steps=steps,
                                                       pct_start=0.05, anneal_strategy="cos")
        mean, scale = self.input_mean_, self.input_scale_
        for epoch in range(self.epochs):
            network.train()
            order = torch.randperm(len(X), generator=generator).to(device)
            total = 0.0
            for first in range(0, len(X), self.batch_size):
                index = order[first:first + self.batch_size]
                m = len(index)
                sigma = (torch.rand(m, 1, 1, generator=generator) * (bin_noise[1] - bin_noise[0]) + bin_noise[0])
                batch = data[index] + (torch.randn(m, PIXELS, PIXELS, generator=generator) * sigma).to(device)
                if mirror:
                    flip = torch.rand(m, 2, generator=generator).to(device) < 0.5
                    batch = torch.where(flip[:, 0, None, None], batch.flip(2), batch)        # x → −x
                    batch = torch.where(flip[:, 1, None, None], batch.flip(1), batch)        # y → −y
                inputs = ((batch - mean) / scale).unsqueeze(1)
                loss = torch.mean((network(inputs) - targets[index]) ** 2)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                total += float(loss.detach()) * m
            scores = None
            if validation is not None:
                estimates = self.predict(validation[0], device=str(device))
                truth = _parameter_table(validation[1])
                scores = {c: float(np.sqrt(np.mean((estimates[c].to_numpy() - truth[:, j]) ** 2)))
                          for j, c in enumerate(TARGETS)}
            if progress is not None:
                progress(epoch + 1, total / len(X), scores)
        self.network_ = network.cpu().eval()
        self.training_seconds_ = time.perf_counter() - start_time
        return self

    # --- prediction -------------------------------------------------------------------------------

    def predict(self, windows: np.ndarray, *, batch_size: int | None = None, device: str = "cpu") -> pd.DataFrame:
        """Estimates from network inputs (:func:`network_input`).

        Parameters
        ----------
        windows : ndarray of float, shape (n, PIXELS, PIXELS) or (PIXELS, PIXELS)
        batch_size : int, optional
            Windows per forward pass; default 128 on the CPU (the activations stay in cache:
            measured 1.5–2× the throughput of 512), 4096 on CUDA.
        device : str, default "cpu"
            ``"cpu"``, ``"cuda"`` or ``"auto"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``a_p`` (µm), ``n_p``, ``z_p`` (µm); n rows.

        Raises
        ------
        ValueError
            Not fitted, or windows of the wrong shape or not finite.
        """
        if not self.fitted:
            raise ValueError("this CNNEstimator is not trained: call fit(windows, table) or load_cnn_estimator(path)")
        X = self._checked_windows(windows)
        target = resolve_device(device)
        step = int(batch_size) if batch_size is not None else (128 if target.type == "cpu" else 4096)
        if step < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        # channels-last (NHWC) activations: measured 2–3× faster convolutions on the CPU (oneDNN)
        network = self.network_.to(target, memory_format=torch.channels_last).eval()  # stays until moved
        out = np.empty((len(X), len(TARGETS)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(X), step):
                batch = torch.from_numpy(X[start:start + step]).to(target)
                inputs = ((batch - self.input_mean_) / self.input_scale_).unsqueeze(1)
                inputs = inputs.contiguous(memory_format=torch.channels_last)
                out[start:start + len(batch)] = network(inputs).cpu().numpy()
        values = out.astype(float) * self.target_scale_ + self.target_mean_
        return pd.DataFrame(values, columns=list(TARGETS))

    def predict_crops(self, crops: np.ndarray, centres: np.ndarray | None = None, *,
                      device: str = "cpu") -> pd.DataFrame:
        """:func:`network_input` of crops (default centre: the middle of each), then :meth:`predict`.

        Same arguments and errors as :meth:`.svr_estimator.SVREstimator.predict_crops`; crops of
        any size (a window reaching beyond a crop reads the background 1 there).
        """
        stack = np.asarray(crops)
        if stack.ndim == 2:
            stack = stack[None]
            centres = None if centres is None else np.asarray(centres, dtype=float).reshape(-1, 2)
        if stack.ndim != 3:
            raise ValueError(f"crops must be an image (rows, columns) or a stack (n, rows, columns); "
                             f"got shape {np.shape(crops)}")
        return self.predict(network_input(stack, centres), device=device)

    def predict_frame(self, frame: np.ndarray, centres: np.ndarray | pd.DataFrame, *,
                      instrument: Instrument | None = None, device: str = "cpu") -> pd.DataFrame:
        """Estimates for particles of one frame at the given centres (e.g. from a detector).

        Parameters
        ----------
        frame : ndarray of float, shape (rows, columns)
            Normalised hologram.
        centres : ndarray of float, shape (n, 2), or pandas.DataFrame with columns ``x, y``
            Centres, px (column, row); may be empty.
        instrument : Instrument, optional
            The frame's microscope; refused when it differs from the one trained for.
        device : str, default "cpu"

        Returns
        -------
        pandas.DataFrame
            Columns ``a_p, n_p, z_p``; one row per centre, in order.

        Raises
        ------
        ValueError
            Another instrument, or as :func:`network_input` and :meth:`predict`.
        """
        self.check_instrument(instrument)
        if isinstance(centres, pd.DataFrame):
            if not {"x", "y"} <= set(centres.columns):
                raise ValueError(f"a centres table needs columns x, y (px); got {list(centres.columns)}")
            xy = centres[["x", "y"]].to_numpy(dtype=float)
        else:
            xy = np.asarray(centres, dtype=float)
        if np.ndim(frame) != 2:
            raise ValueError(f"frame must be one image (rows, columns); got shape {np.shape(frame)}")
        if xy.size == 0:
            return pd.DataFrame(np.empty((0, len(TARGETS))), columns=list(TARGETS))
        return self.predict(network_input(frame, xy), device=device)

    def check_instrument(self, instrument: Instrument | None) -> None:
        """``ValueError`` unless ``instrument`` is None or equals :attr:`instrument` (to 1e-9)."""
        if instrument is None:
            return
        if not isinstance(instrument, Instrument):
            raise ValueError(f"instrument must be an Instrument; got {type(instrument).__name__}")
        mine, theirs = _instrument_record(self.instrument), _instrument_record(instrument)
        if not all(math.isclose(mine[k], theirs[k], rel_tol=1e-9) for k in ("wavelength", "magnification", "n_m")):
            raise ValueError(f"this CNN estimator was trained for λ = {mine['wavelength']} µm, "
                             f"{mine['magnification']} µm/px, n_m = {mine['n_m']}; the frame's instrument is "
                             f"λ = {theirs['wavelength']} µm, {theirs['magnification']} µm/px, n_m = {theirs['n_m']}"
                             f" (train one for it: train_shipped_estimator with another instrument)")

    # --- persistence: tensors, numbers and strings only (torch.load(weights_only=True)) ------------

    def to_dict(self, recipe: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything prediction needs, as tensors and plain values (plus provenance)."""
        if not self.fitted:
            raise ValueError("this CNNEstimator is not trained: nothing to save")
        return {
            "format": FORMAT, "version": _VERSION, "targets": list(TARGETS), "window": WINDOW, "bin": BIN,
            "architecture": json.loads(json.dumps(ARCHITECTURE)),
            "network": {k: v.detach().cpu().clone() for k, v in self.network_.state_dict().items()},
            "input_mean": self.input_mean_, "input_scale": self.input_scale_,
            "target_mean": [float(v) for v in self.target_mean_],
            "target_scale": [float(v) for v in self.target_scale_],
            "instrument": _instrument_record(self.instrument),
            "ranges": {c: [float(v) for v in self.ranges_[c]] for c in TARGETS},
            "settings": {"epochs": self.epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                         "weight_decay": self.weight_decay, "noise": list(self.noise), "flips": self.flips,
                         "random_state": self.random_state},
            "training_seconds": float(getattr(self, "training_seconds_", float("nan"))),
            "recipe": json.dumps(recipe or {}),
            "versions": {"torch": str(torch.__version__), "numpy": str(np.__version__),
                         "python": sys.version.split()[0]},
        }

    def save(self, path: str | Path, recipe: dict[str, Any] | None = None) -> Path:
        """Write :meth:`to_dict` with ``torch.save`` (no pickled classes); returns the path."""
        path = Path(path)
        torch.save(self.to_dict(recipe), path)
        return path

    def _checked_windows(self, windows: np.ndarray) -> np.ndarray:
        X = np.asarray(windows)
        if X.ndim == 2:
            X = X[None]
        if X.ndim != 3 or X.shape[1:] != (PIXELS, PIXELS) or len(X) == 0:
            raise ValueError(f"windows must have shape (n, {PIXELS}, {PIXELS}) (network_input of the crops); "
                             f"got {np.shape(windows)}")
        if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
            raise ValueError(f"windows must hold real numbers; got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=np.float32)
        if not np.all(np.isfinite(X)):
            raise ValueError("windows must be finite (no NaN or inf)")
        return X


def estimator_from_dict(record: Any, where: str = "estimator record") -> CNNEstimator:
    """Rebuild a :class:`CNNEstimator` from :meth:`CNNEstimator.to_dict` (errors as :func:`load_cnn_estimator`)."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{where}: not a matloop CNN estimator (format {FORMAT!r} expected)")
    keys = ("window", "bin", "architecture", "network", "input_mean", "input_scale", "target_mean", "target_scale",
            "instrument", "settings")
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"{where}: damaged estimator file: missing {', '.join(missing)}")
    if int(record["window"]) != WINDOW or int(record["bin"]) != BIN:
        raise ValueError(f"{where}: made for {record['window']}-px windows in {record['bin']}-px blocks; this "
                         f"version reads {WINDOW} and {BIN}")
    try:
        spec = record["instrument"]
        instrument = Instrument(spec["wavelength"], spec["magnification"], spec["n_m"],
                                tuple(complex(re, im) for re, im in spec["polarization"]))
        settings = record["settings"]
        estimator = CNNEstimator(settings["epochs"], settings["batch_size"], settings["learning_rate"],
                                 settings["weight_decay"], tuple(settings["noise"]), settings["flips"],
                                 settings["random_state"], instrument)
        network = _network(record["architecture"])
        network.load_state_dict(record["network"])
        estimator.input_mean_, estimator.input_scale_ = float(record["input_mean"]), float(record["input_scale"])
        estimator.target_mean_ = np.asarray(record["target_mean"], dtype=float)
        estimator.target_scale_ = np.asarray(record["target_scale"], dtype=float)
        estimator.training_seconds_ = float(record.get("training_seconds", float("nan")))
        estimator.ranges_ = _recorded_ranges(record)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{where}: damaged estimator file ({exc})") from None
    numbers = [estimator.input_mean_, estimator.input_scale_, *estimator.target_mean_, *estimator.target_scale_]
    if (estimator.target_mean_.shape != (len(TARGETS),) or estimator.target_scale_.shape != (len(TARGETS),)
            or not all(math.isfinite(v) for v in numbers)
            or not all(torch.isfinite(p).all() for p in network.parameters())):
        raise ValueError(f"{where}: damaged estimator file: wrong sizes or non-finite numbers")
    estimator.network_ = network.eval()
    return estimator


def load_cnn_estimator(path: str | Path) -> CNNEstimator:
    """Read an estimator written by :meth:`CNNEstimator.save` (``torch.load(weights_only=True)``).

    Raises
    ------
    ValueError
        Not such a file, or damaged.
    """
    path = Path(path)
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, ValueError) as exc:
        raise ValueError(f"{path.name}: not a CNN estimator file ({exc})") from None
    return estimator_from_dict(record, path.name)


def load_shipped_estimator() -> CNNEstimator:
    """The trained estimator that ships with matloop (``models/cnn_estimator.pt``, module notes)."""
    return load_cnn_estimator(SHIPPED_ESTIMATOR)


def train_shipped_estimator(path: str | Path = SHIPPED_ESTIMATOR, *, recipe: dict[str, Any] | None = None,
                            cache: str | Path | None = Path("runs") / "cnn_estimator_cache",
                            verbose: bool = True) -> CNNEstimator:
    """Regenerate the shipped estimator from :data:`TRAINING_RECIPE` (seeded) and save it.

    Parameters
    ----------
    path : path, default :data:`SHIPPED_ESTIMATOR`
    recipe : dict, optional
        Replaces :data:`TRAINING_RECIPE` (same keys).
    cache : path or None, default ``runs/cnn_estimator_cache``
        Folder (git-ignored) that keeps the generated windows between runs, keyed by a hash of
        the data recipe; None to keep nothing.
    verbose : bool, default True
        Print progress.

    Returns
    -------
    CNNEstimator
    """
    recipe = json.loads(json.dumps(recipe or TRAINING_RECIPE))
    torch.set_num_threads(1)
    instrument = Instrument(**recipe["instrument"])
    data = dict(recipe["training_windows"])
    say = print if verbose else (lambda *a, **k: None)
    key = hashlib.sha256(json.dumps([data, recipe["instrument"], WINDOW, BIN], sort_keys=True).encode()).hexdigest()
    cached = None if cache is None else Path(cache) / f"windows_{key[:16]}.npz"
    start = time.perf_counter()
    from_cache = cached is not None and cached.exists()
    if from_cache:
        stored = np.load(cached)
        windows = stored["windows"]
        table = pd.DataFrame(stored["table"], columns=["a_p", "n_p", "z_p", "dx", "dy"])
        say(f"training windows from {cached}")
    else:
        count = data.pop("count")
        windows, table = training_windows(count, instrument, **{k: tuple(v) if isinstance(v, list) else v
                                                                for k, v in data.items()},
                                          progress=lambda done, total: say(f"  windows {done}/{total} "
                                                                           f"({time.perf_counter() - start:.0f} s)"))
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cached, windows=windows, table=table.to_numpy())
    generation = time.perf_counter() - start
    settings = dict(recipe["CNNEstimator"])
    settings["noise"] = tuple(settings["noise"])
    estimator = CNNEstimator(**settings, instrument=instrument)
    estimator.fit(windows, table, progress=lambda epoch, loss, _: say(
        f"  epoch {epoch}/{settings['epochs']}: loss {loss:.4f} ({time.perf_counter() - start:.0f} s)"))
    recipe["measured"] = {"generation_seconds": round(generation, 1), "windows_from_cache": from_cache,
                          "training_seconds": round(estimator.training_seconds_, 1)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    estimator.save(path, recipe)
    say(f"saved {path} ({Path(path).stat().st_size / 1e6:.2f} MB): windows {generation:.0f} s, "
        f"training {estimator.training_seconds_:.0f} s")
    return estimator


def _recorded_ranges(record: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Training ranges of a saved estimator: stored, or (first files) those of its data recipe."""
    if "ranges" in record:
        return {c: (float(record["ranges"][c][0]), float(record["ranges"][c][1])) for c in TARGETS}
    data = json.loads(record.get("recipe") or "{}").get("training_windows", {})
    keys = {"a_p": "a_range", "n_p": "n_range", "z_p": "z_range"}
    if not all(k in data for k in keys.values()):
        raise ValueError("no training ranges recorded")
    return {c: (float(data[k][0]), float(data[k][1])) for c, k in keys.items()}


def _instrument_record(instrument: Instrument) -> dict[str, Any]:
    return {"wavelength": instrument.wavelength, "magnification": instrument.magnification, "n_m": instrument.n_m,
            "polarization": [[complex(p).real, complex(p).imag] for p in instrument.polarization]}


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


if __name__ == "__main__":
    train_shipped_estimator()
