"""A trained CNN that finds particles in in-line holograms, refined to sub-pixel centres.

Detection in two steps, as the classical finder (:func:`.detection.locate_rings`) but with a
learned first step:

1. **Heatmap network** (CenterNet, Zhou, Wang & Krähenbühl, arXiv:1904.07850, 2019; the
   single-shot detectors of Newby et al., PNAS 115, 9026 (2018) and Altman & Grier, J. Phys.
   Chem. B 124, 1602 (2020) played the same role for holograms). The frame is averaged over
   ``binning × binning`` blocks (8: 1024×1280 → 128×160; averaging keeps the fringes of
   issue 13, ≥ 7 px apart at the frame's pixels, only partly, but the inner fringes that reveal
   a particle are ≥ 30 px wide, and it cuts the 5 % pixel noise to 0.6 %), compressed as
   ``asinh(20 (b − 1))`` and fed to a small U-Net: four stride-2 stages (16, 24, 32, 48, 64
   channels, the deepest two with dilated convolutions, so that a cell sees the whole frame:
   rings reach 100–300 px) and three upsampling stages back to half the input resolution.
   It predicts, per cell of ``2 × binning`` px, the probability that a particle's centre
   lies there (focal loss against Gaussian bumps of ``sigma`` cells, CenterNet's
   ``α = 2, β = 4``) and the centre's offset within the cell (L1 loss). Cells that are the
   largest of their 3×3 neighbourhood and above ``threshold`` are candidates.
2. **Refinement** at the frame's resolution: :func:`.ring_centre.ring_centres` moves every
   candidate, strongest first, to the maximum of its ring coherence (the best circular model of
   the fringes), each against the frame less its neighbours' models; candidates that converge
   within ``merge_distance`` of a stronger one are dropped. A crop size per particle comes from
   :func:`.detection.ring_extent` (where the fringes sink below the pixel noise).

Choices, measured on held-out frames of issue 13 (1024×1280 px, 0–4 particles, 5 % noise,
a_p 0.4–2 µm, n_p 1.38–1.8, z_p 10–40 µm, λ = 0.447 µm, n_m = 1.34, 0.048 µm/px):

* ``binning = 8`` rather than 4: a quarter of the cost, and the refinement sets the precision;
  after 400 training steps the network already missed 1 of 227 particles (within 32 px);
* cells of 16 px: with 32 px cells two particles closer than ~2 cells merged into one peak;
* the network alone gives centres to ~1–2 px rms; the refinement brings them to 0.1 px rms.

Benchmark (``tests/benchmarks/bench_tracking_detection.py``, 250 held-out frames of the reference
hologram, seed 0, 480 particles, matched within 1 px): 3 missed (0.6 %; each 27–40 px from
another particle), no false alarm, 0.10 px rms, largest 0.69 px, 0.20 s per frame on one core;
the classical finder misses 18.1 % with 12.3 % false alarms (12.3 % and 6.0 % within 3 px),
trackpy's ``locate`` 85.6 % and 34.3 %.

Measured with the shipped detector on 600 validation frames (fast generator, seeds 42 and 7;
1243 particles; matched within 1 px): 5 misses (0.4 %): four particles 29–46 px from another
(one peak for the pair; about 1 % of the issue's particles have a neighbour within 46 px,
0.5 % within 32 px) and one
9 px from the edge, found 1.3 px off; no false alarm within 3 px; in-plane error 0.11 px rms;
0.15–0.3 s per frame on one core. Training on frames with close pairs (``close_pairs = 0.3``)
recovered one such pair in three; a second pass of the network on the frame less the ring
models found the rest but raised 49 false alarms (the models' residuals). The faintest
particle of the ranges 0–10 px from an edge: 16 of 16 found, 0.57 px rms, largest 0.87 px.

Training data come from :func:`.binned_hologram.binned_frames`: noiseless block-averaged frames
of the multi-sphere Lorenz–Mie hologram (the same sum as :func:`.hologram.hologram`, 6e-6 apart,
4–15× faster), with noise drawn afresh at every step (Gaussian ``σ / binning`` on block means is
exactly the block mean of Gaussian pixel noise of ``σ``) and random flips of the frame (for
x- or y-polarised light the hologram of a sphere is symmetric under both mirror images).

The shipped detector (:func:`load_shipped_detector`, ``models/cnn_detector.pt``, float16
weights, 0.53 MB, 250 715 weights) was trained by :func:`train_shipped_detector` with
:data:`TRAINING_RECIPE`: 2000 frames (6030 particles) generated in 645 s, then 6000 AdamW
steps of 4 frames (bfloat16 autocast) in 402 s, on one core of this 2-core machine (18 min in
all; ~40 min while the machine is shared). Regenerate it with
``python -m engine.analysis.tracking.cnn_detector``. Files are read with
``torch.load(..., weights_only=True)``: tensors, numbers and strings only.

Units: positions and sizes in px of the full frame (pixel ``(i, j)`` centred at ``x = j,
y = i``); images are normalised holograms (background ≈ 1).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from engine.runtime.device import resolve_device

from .binned_hologram import binned_frames, block_mean
from .detection import DETECTION_COLUMNS, ring_extent
from .image_checks import CNN_MIN_SIDE, checked_image
from .instrument import Instrument
from .noise import noise_level
from .ring_centre import ring_centres

__all__ = ["SHIPPED_DETECTOR", "TRAINING_RECIPE", "CNNDetector", "load_detector", "load_shipped_detector",
           "locate_cnn", "train_shipped_detector"]

#: The shipped weights.
SHIPPED_DETECTOR = Path(__file__).parent / "models" / "cnn_detector.pt"

#: How the shipped detector was trained: the instrument and frames of issue 13, arguments of
#: :func:`.binned_hologram.binned_frames` (ranges a little wider than the issue's, up to six
#: particles per frame, 30 % of the frames with a close pair) and of :class:`CNNDetector`.
TRAINING_RECIPE: dict[str, Any] = {
    "instrument": {"wavelength": 0.447, "magnification": 0.048, "n_m": 1.34},
    "binned_frames": {"count": 2000, "shape": (1024, 1280), "binning": 4, "particles": (0, 6), "close_pairs": 0.3,
                      "a_range": (0.35, 2.05), "n_range": (1.36, 1.82), "z_range": (8.5, 42.0), "seed": 1000},
    "CNNDetector": {"steps": 6000, "random_state": 0},
}

_FORMAT = "matloop.tracking.cnn-detector"
_STAGES = 4            # stride-2 stages: the binned frame must be a multiple of 2**_STAGES
_GAIN = 20.0           # input asinh(_GAIN (b − 1)): linear within ±5 %, compressed beyond


class CNNDetector:
    """Heatmap CNN + ring-coherence refinement (module notes).

    Parameters
    ----------
    binning : int, default 8
        Block size of the network's input, px (a power of two ≥ 2).
    widths : tuple of 5 int, default (16, 24, 32, 48, 64)
        Channels of the network's stages.
    threshold : float, default 0.38
        Least heatmap probability of a candidate, in (0, 1). Chosen on 600 validation frames of
        issue 13 (seeds 7 and 42, not the benchmark's): the shipped network's false candidates
        scored at most 0.35 there, the true particles at least 0.41.
    radius : float, default 200
        Disk of the ring-coherence refinement, px (:func:`.ring_centre.ring_centres`).
    model_radius : float, default 400
        Extent of a neighbour's ring model subtracted during refinement, px.
    merge_distance : float, default 8
        Refined candidates closer than this to a stronger one are dropped, px.
    min_size, max_size : int, default 101, 401
        Bounds on the crop size, px (:func:`.detection.ring_extent`).
    steps, batch_size, learning_rate : int, int, float, default 3000, 4, 2e-3
        Training: AdamW steps (one-cycle schedule) of ``batch_size`` frames.
    noise : (float, float), default (0.04, 0.06)
        Range of the pixel noise σ drawn for each training frame (relative to the background).
    sigma : float, default 0.75
        Width of the target bumps, cells.
    random_state : int, default 0
        Seed of the weights, batches, flips and noise.
    device : str, default "cpu"
        ``"cpu"``, ``"cuda"`` or ``"auto"`` (:func:`engine.runtime.device.resolve_device`).

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained network (after :meth:`fit` or loading).
    loss_curve_ : list of float
        Mean training loss per 100 steps.
    training_ : dict
        What the detector was trained on (frames, particles, steps, seconds).
    """

    def __init__(self, *, binning: int = 8, widths: tuple[int, ...] = (16, 24, 32, 48, 64), threshold: float = 0.38,
                 radius: float = 200.0, model_radius: float = 400.0, merge_distance: float = 8.0,
                 min_size: int = 101, max_size: int = 401, steps: int = 3000, batch_size: int = 4,
                 learning_rate: float = 2e-3, noise: tuple[float, float] = (0.04, 0.06), sigma: float = 0.75,
                 random_state: int = 0, device: str = "cpu") -> None:
        self.binning = binning
        self.widths = tuple(int(w) for w in widths)
        self.threshold = threshold
        self.radius = radius
        self.model_radius = model_radius
        self.merge_distance = merge_distance
        self.min_size = min_size
        self.max_size = max_size
        self.steps = steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.noise = tuple(noise)
        self.sigma = sigma
        self.random_state = random_state
        self.device = device
        self._check_settings()

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict[str, Any]:
        """Constructor arguments (JSON-safe)."""
        return {"binning": self.binning, "widths": list(self.widths), "threshold": self.threshold,
                "radius": self.radius, "model_radius": self.model_radius, "merge_distance": self.merge_distance,
                "min_size": self.min_size, "max_size": self.max_size, "steps": self.steps,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate, "noise": list(self.noise),
                "sigma": self.sigma, "random_state": self.random_state, "device": self.device}

    def _check_settings(self) -> None:
        b = self.binning
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 2 or b & (b - 1):
            raise ValueError(f"binning must be a power of two >= 2 (px); got {b!r}")
        if len(self.widths) != 5 or min(self.widths) < 1:
            raise ValueError(f"widths must be 5 positive channel counts; got {self.widths}")
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be a probability in (0, 1); got {self.threshold!r}")
        if not (self.radius >= 8 and self.model_radius >= 8 and self.merge_distance >= 0):
            raise ValueError(f"need radius, model_radius >= 8 px and merge_distance >= 0; got {self.radius}, "
                             f"{self.model_radius}, {self.merge_distance}")
        if not 5 <= int(self.min_size) <= int(self.max_size):
            raise ValueError(f"need 5 <= min_size <= max_size (px); got {self.min_size}, {self.max_size}")
        if int(self.steps) < 1 or int(self.batch_size) < 1 or not self.learning_rate > 0:
            raise ValueError("steps and batch_size must be >= 1 and learning_rate > 0")
        low, high = self.noise
        if not 0 <= low <= high:
            raise ValueError(f"noise must be (low, high) with 0 <= low <= high; got {self.noise}")
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive (cells); got {self.sigma!r}")

    @property
    def cell(self) -> int:
        """Side of an output cell, px of the full frame."""
        return 2 * int(self.binning)

    # ------------------------------------------------------------------ training
    def fit(self, frames: np.ndarray, truth: pd.DataFrame, *, frame_binning: int = 4,
            progress: Callable[[int, int, float], None] | None = None) -> CNNDetector:
        """Train the network on noiseless block-averaged frames with known particles.

        Parameters
        ----------
        frames : ndarray, shape (n, rows, columns)
            ``b − 1`` averaged over blocks of ``frame_binning`` px (as
            :func:`.binned_hologram.binned_frames` returns them), without noise: noise of σ
            drawn from ``noise`` is added afresh at every step. The full frames, ``rows ×
            frame_binning`` by ``columns × frame_binning`` px, must be multiples of
            ``binning × 16``.
        truth : pandas.DataFrame
            Columns ``frame`` (0 … n − 1), ``x, y`` (px of the full frame).
        frame_binning : int, default 4
            Block size of ``frames``; must divide ``binning``.
        progress : callable, optional
            Called every 100 steps with (step, steps, mean loss of those steps).

        Returns
        -------
        CNNDetector
            ``self``, trained.

        Raises
        ------
        ValueError
            Frames of the wrong shape or with non-finite values, a truth table without the
            columns, or a ``frame_binning`` that does not divide ``binning``.
        """
        self._check_settings()
        frames = np.asarray(frames)
        if frames.ndim != 3 or len(frames) < 1:
            raise ValueError(f"frames must be an array (n, rows, columns); got shape {frames.shape}")
        if isinstance(frame_binning, bool) or int(frame_binning) < 1 or self.binning % int(frame_binning):
            raise ValueError(f"frame_binning must divide binning = {self.binning}; got {frame_binning!r}")
        factor = self.binning // int(frame_binning)
        unit = factor * 2**_STAGES
        if frames.shape[1] % unit or frames.shape[2] % unit:
            raise ValueError(f"binned frames must be multiples of {unit} px on both sides (full frames of "
                             f"{self.binning * 2**_STAGES} px); got {frames.shape[1:]}")
        if not np.all(np.isfinite(frames)):
            raise ValueError("frames contain NaN or infinite values")
        missing = [c for c in ("frame", "x", "y") if c not in truth.columns]
        if missing:
            raise ValueError(f"truth needs columns frame, x, y; missing {missing}")
        shape = (frames.shape[1] * int(frame_binning), frames.shape[2] * int(frame_binning))
        by_frame = {int(k): g[["x", "y"]].to_numpy(float) for k, g in truth.groupby("frame")}
        torch.manual_seed(int(self.random_state))
        rng = np.random.default_rng(int(self.random_state))
        device = resolve_device(self.device)
        network = _HeatmapNet(self.widths).to(device).to(memory_format=torch.channels_last)
        optimiser = torch.optim.AdamW(network.parameters(), lr=self.learning_rate, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=self.learning_rate,
                                                       total_steps=int(self.steps), pct_start=0.05)
        noise_scale = 1.0 / int(frame_binning)
        losses, window = [], []
        start = time.perf_counter()
        network.train()
        for step in range(int(self.steps)):
            images, centres = [], []
            for index in rng.integers(0, len(frames), int(self.batch_size)):
                image = torch.from_numpy(frames[index].astype(np.float32))
                points = by_frame.get(int(index), np.zeros((0, 2))).copy()
                if rng.random() < 0.5:
                    image, points[:, 0] = image.flip(-1), shape[1] - 1 - points[:, 0]
                if rng.random() < 0.5:
                    image, points[:, 1] = image.flip(-2), shape[0] - 1 - points[:, 1]
                sigma = rng.uniform(*self.noise) * noise_scale
                image = image + sigma * torch.from_numpy(rng.standard_normal(image.shape).astype(np.float32))
                images.append(_bin_tensor(image, factor))
                centres.append(points)
            inputs = _prepare(torch.stack(images)[:, None]).to(device).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16):
                output = network(inputs)
            output = output.float()
            heat, offsets, mask = _targets(centres, output.shape[-2:], self.cell, self.sigma)
            loss = _loss(output, heat.to(device), offsets.to(device), mask.to(device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            window.append(loss.item())
            if len(window) == 100 or step + 1 == int(self.steps):
                losses.append(float(np.mean(window)))
                if progress is not None:
                    progress(step + 1, int(self.steps), losses[-1])
                window = []
        network.eval()
        self.network_ = network.to("cpu").to(memory_format=torch.contiguous_format)
        self.loss_curve_ = losses
        self.training_ = {"frames": int(len(frames)), "particles": int(len(truth)), "frame_shape": list(shape),
                          "steps": int(self.steps), "seconds": round(time.perf_counter() - start, 1)}
        return self

    # ------------------------------------------------------------------ detection
    def heatmap(self, image: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
        """The network's heatmap and its candidates (before refinement).

        Parameters
        ----------
        image : ndarray of float, shape (rows, columns)
            Normalised hologram (background ≈ 1), finite, at least 64×64 px. Frames that are not
            multiples of ``binning × 16`` px are padded with background.

        Returns
        -------
        heat : ndarray of float, shape (rows', columns')
            Probability of a centre per cell of :attr:`cell` px (the padded frame's cells).
        candidates : pandas.DataFrame
            Columns ``x, y`` (px), ``score`` (the heatmap peak), strongest first.

        Raises
        ------
        ValueError
            Not fitted, or a bad image.
        """
        image = checked_image(image, CNN_MIN_SIDE)
        rows, cols = image.shape
        unit = int(self.binning) * 2**_STAGES
        padded = np.zeros((-(-rows // unit) * unit, -(-cols // unit) * unit), dtype=np.float32)
        padded[:rows, :cols] = image - 1.0
        return self._candidates(block_mean(padded, int(self.binning)), (rows, cols))

    def _candidates(self, binned: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, pd.DataFrame]:
        """Heatmap and peaks from block means of ``b − 1`` (multiples of 16 blocks) of a
        ``shape`` frame."""
        network = self._network()
        rows, cols = shape
        inputs = _prepare(torch.from_numpy(np.ascontiguousarray(binned, dtype=np.float32))[None, None])
        device = resolve_device(self.device)
        with torch.no_grad():
            output = network.to(device)(inputs.to(device)).float().cpu()[0]
        heat = torch.sigmoid(output[0])
        peaks = (heat == F.max_pool2d(heat[None], 3, 1, 1)[0]) & (heat > float(self.threshold))
        i, j = torch.nonzero(peaks, as_tuple=True)
        cell = self.cell
        x = (j.double() + output[1, i, j].double()) * cell + (cell - 1) / 2
        y = (i.double() + output[2, i, j].double()) * cell + (cell - 1) / 2
        table = pd.DataFrame({"x": np.clip(x.numpy(), -0.5, cols - 0.5), "y": np.clip(y.numpy(), -0.5, rows - 0.5),
                              "score": heat[i, j].double().numpy()})
        return heat.numpy(), table.sort_values("score", ascending=False, ignore_index=True)

    def locate(self, image: np.ndarray, *, refine: bool = True, noise: float | None = None) -> pd.DataFrame:
        """Centres of the particles in a hologram, with a crop size for each.

        Parameters
        ----------
        image : ndarray of float, shape (rows, columns)
            Normalised hologram (background ≈ 1), finite, at least 64×64 px.
        refine : bool, default True
            Refine the network's centres (module notes); ``False`` returns them as they are
            (~2 px rms).
        noise : float, optional
            Pixel noise σ for the crop sizes; default estimated from the image
            (:func:`.noise.noise_level`).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`.detection.DETECTION_COLUMNS`: ``x, y`` (px), ``size`` (odd, px),
            ``score`` (the network's probability); strongest first. The same table as
            :func:`.detection.locate_rings`, so that either finder can feed the pipeline.

        Raises
        ------
        ValueError
            Not fitted, or a bad image.
        """
        image = checked_image(image, CNN_MIN_SIDE)
        _, candidates = self.heatmap(image)
        starts = candidates[["x", "y"]].to_numpy(float)
        scores = candidates["score"].to_numpy(float)
        rows, cols = image.shape
        if refine and len(starts):
            starts = ring_centres(image, starts, radius=float(self.radius), model_radius=float(self.model_radius))
        kept: list[int] = []
        for index, (x, y) in enumerate(starts):
            if all(math.hypot(x - starts[k, 0], y - starts[k, 1]) >= float(self.merge_distance) for k in kept):
                kept.append(index)
        noise = noise_level(image) if noise is None else float(noise)
        records = []
        for index in kept:
            x = float(min(max(starts[index, 0], -0.5), cols - 0.5))
            y = float(min(max(starts[index, 1], -0.5), rows - 0.5))
            size = ring_extent(image, x, y, noise=noise, min_size=int(self.min_size), max_size=int(self.max_size))
            records.append((x, y, size, float(scores[index])))
        table = pd.DataFrame(records, columns=list(DETECTION_COLUMNS))
        return table.astype({"size": int})

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the detector (float16 weights, settings, training record); returns the path."""
        network = self._network()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: (v.half() if v.is_floating_point() else v) for k, v in network.state_dict().items()}
        torch.save({"format": _FORMAT, "version": 1, "settings": self.settings(), "state": state,
                    "loss_curve": list(self.loss_curve_), "training": dict(self.training_)}, path)
        return path

    def _network(self) -> nn.Module:
        network = getattr(self, "network_", None)
        if network is None:
            raise ValueError("this CNNDetector is not trained: call fit() or load one (load_shipped_detector())")
        return network


def load_detector(path: str | Path) -> CNNDetector:
    """Read a detector written by :meth:`CNNDetector.save` (``torch.load(weights_only=True)``).

    Raises
    ------
    ValueError
        Not such a file, or weights that do not fit its network.
    """
    path = Path(path)
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means "not one of ours"
        raise ValueError(f"{path.name}: not a detector file ({type(exc).__name__})") from None
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        raise ValueError(f"{path.name}: not a matloop CNN detector (format {_FORMAT!r} expected)")
    try:
        settings = dict(record["settings"])
        settings["widths"] = tuple(settings["widths"])
        settings["noise"] = tuple(settings["noise"])
        detector = CNNDetector(**settings)
        network = _HeatmapNet(detector.widths)
        network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in record["state"].items()})
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ValueError(f"{path.name}: damaged detector file ({type(exc).__name__}: {exc})") from None
    detector.network_ = network.eval()
    detector.loss_curve_ = list(record.get("loss_curve", []))
    detector.training_ = dict(record.get("training", {}))
    return detector


def load_shipped_detector(device: str = "cpu") -> CNNDetector:
    """The shipped detector (:data:`SHIPPED_DETECTOR`), on ``device``."""
    detector = load_detector(SHIPPED_DETECTOR)
    detector.device = device
    resolve_device(device)
    return detector


def locate_cnn(image: np.ndarray, *, detector: CNNDetector | None = None, refine: bool = True,
               noise: float | None = None) -> pd.DataFrame:
    """:meth:`CNNDetector.locate` with the shipped detector by default (the counterpart of
    :func:`.detection.locate_rings`: same columns ``x, y, size, score``)."""
    return (detector or _shipped()).locate(image, refine=refine, noise=noise)


def train_shipped_detector(path: str | Path = SHIPPED_DETECTOR, *,
                           progress: Callable[[str], None] | None = None) -> CNNDetector:
    """Generate the frames of :data:`TRAINING_RECIPE`, train, and write the weights file.

    Parameters
    ----------
    path : path, default :data:`SHIPPED_DETECTOR`
    progress : callable, optional
        Called with a line of text now and then.

    Returns
    -------
    CNNDetector
    """
    say = progress or (lambda line: None)
    instrument = Instrument(**TRAINING_RECIPE["instrument"])
    start = time.perf_counter()
    frames, truth = binned_frames(instrument=instrument, **TRAINING_RECIPE["binned_frames"])
    say(f"{len(frames)} frames, {len(truth)} particles generated in {time.perf_counter() - start:.0f} s")
    detector = CNNDetector(**TRAINING_RECIPE["CNNDetector"])
    detector.fit(frames, truth, frame_binning=TRAINING_RECIPE["binned_frames"]["binning"],
                 progress=lambda step, steps, loss: say(f"step {step}/{steps}: loss {loss:.4f}"))
    detector.training_["generation_seconds"] = round(time.perf_counter() - start - detector.training_["seconds"], 1)
    detector.save(path)
    return detector


@functools.cache
def _shipped() -> CNNDetector:
    """The shipped detector on the CPU, read once per process."""
    return load_shipped_detector()


class _HeatmapNet(nn.Module):
    """U-Net of :class:`CNNDetector` (module notes): input (n, 1, H, W), output (n, 3, H/2, W/2)
    (heatmap logit, x and y offsets in cells); H and W multiples of 16."""

    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        w = widths
        self.s0 = _block(1, w[0])
        self.s1 = nn.Sequential(_block(w[0], w[1], 2), _block(w[1], w[1]))
        self.s2 = nn.Sequential(_block(w[1], w[2], 2), _block(w[2], w[2]))
        self.s3 = nn.Sequential(_block(w[2], w[3], 2), _block(w[3], w[3], dilation=2))
        self.s4 = nn.Sequential(_block(w[3], w[4], 2), _block(w[4], w[4], dilation=2), _block(w[4], w[4], dilation=4))
        self.u3 = _block(w[4] + w[3], w[3])
        self.u2 = _block(w[3] + w[2], w[2])
        self.u1 = _block(w[2] + w[1], w[1])
        self.head = nn.Sequential(_block(w[1], w[1]), nn.Conv2d(w[1], 3, 1))
        with torch.no_grad():
            self.head[-1].bias[0] = -4.6          # CenterNet's prior: p ≈ 0.01 everywhere at the start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.s1(self.s0(x))
        x2 = self.s2(x1)
        x3 = self.s3(x2)
        y = self.s4(x3)
        for skip, merge in ((x3, self.u3), (x2, self.u2), (x1, self.u1)):
            up = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = merge(torch.cat([up, skip], 1))
        return self.head(y)


def _block(channels_in: int, channels_out: int, stride: int = 1, dilation: int = 1) -> nn.Module:
    convolution = nn.Conv2d(channels_in, channels_out, 3, stride, padding=dilation, dilation=dilation, bias=False)
    return nn.Sequential(convolution, nn.BatchNorm2d(channels_out), nn.ReLU(inplace=True))


def _prepare(binned: torch.Tensor) -> torch.Tensor:
    """Network input from block means of ``b − 1``."""
    return torch.asinh(_GAIN * binned)


def _bin_tensor(image: torch.Tensor, factor: int) -> torch.Tensor:
    if factor == 1:
        return image
    rows, cols = image.shape[-2:]
    return image.reshape(rows // factor, factor, cols // factor, factor).mean(dim=(1, 3))


def _targets(centres: list[np.ndarray], shape: tuple[int, int], cell: int,
             sigma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CenterNet targets: Gaussian bumps peaking at 1 in each centre's cell, offsets, and a mask."""
    rows, cols = (int(s) for s in shape)
    heat = np.zeros((len(centres), rows, cols), np.float32)
    offsets = np.zeros((len(centres), 2, rows, cols), np.float32)
    mask = np.zeros((len(centres), rows, cols), np.float32)
    ii, jj = np.mgrid[0:rows, 0:cols]
    for n, points in enumerate(centres):
        for x, y in points:
            u, v = (x - (cell - 1) / 2) / cell, (y - (cell - 1) / 2) / cell
            j, i = int(np.clip(np.rint(u), 0, cols - 1)), int(np.clip(np.rint(v), 0, rows - 1))
            heat[n] = np.maximum(heat[n], np.exp(-((jj - j) ** 2 + (ii - i) ** 2) / (2 * sigma**2)))
            offsets[n, :, i, j] = u - j, v - i
            mask[n, i, j] = 1.0
    return torch.from_numpy(heat), torch.from_numpy(offsets), torch.from_numpy(mask)


def _loss(output: torch.Tensor, heat: torch.Tensor, offsets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """CenterNet's focal loss on the heatmap (α = 2, β = 4) plus the L1 loss of the offsets."""
    p = torch.sigmoid(output[:, 0]).clamp(1e-6, 1 - 1e-6)
    positive = heat >= 0.999
    focal = torch.where(positive, -torch.log(p) * (1 - p) ** 2, -torch.log(1 - p) * p**2 * (1 - heat) ** 4)
    count = positive.sum().clamp(min=1)
    offset = (torch.abs(output[:, 1:] - offsets).sum(1) * mask).sum() / mask.sum().clamp(min=1)
    return focal.sum() / count + offset


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped weights
    trained = train_shipped_detector(progress=print)
    print(f"wrote {SHIPPED_DETECTOR}: {trained.training_}")
