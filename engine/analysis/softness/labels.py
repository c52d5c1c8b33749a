"""Rearranging and non-rearranging particles of a trajectory, from p_hop.

The recipe of Cubuk et al., Phys. Rev. Lett. 114, 108001 (2015) and Schoenholz et al., Nat. Phys.
12, 469 (2016) (Methods), with p_hop of :func:`.dynamics.p_hop` over windows of ``half_window``
frames on either side of frame t:

* particle i is **rearranging** at t when p_hop(i, t) > p_c (``threshold``; Schoenholz et al. used
  p_c = 0.2 σ² for the Kob–Andersen glass, our default);
* it is **not rearranging** at t when p_hop(i, t') < ``stable_threshold`` (default p_c) at every
  frame t' within ``stable_window`` frames of t, before and after (default 2 × ``half_window``,
  i.e. one p_hop window t_R on either side): it neither has just rearranged nor is about to, the
  "has not rearranged for a long time" class of the papers, made symmetric here so that a stable
  label never sits next to a hop;
* otherwise it is not labelled (between the thresholds, or a window that runs off the trajectory,
  where p_hop is undefined).

Structure functions cost seconds per configuration, so a trajectory is described at a few frames
only: for training, up to ``max_frames`` frames richest in rearranging particles, at least
``half_window`` frames apart (:func:`training_frames`); for prediction, frames evenly spaced over
the range where p_hop is defined (:func:`prediction_frames`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .dynamics import p_hop
from .trajectory import GlassTrajectory

__all__ = ["HopSettings", "in_words", "REARRANGING", "STABLE", "UNLABELLED", "hop_labels", "trajectory_labels",
           "training_frames", "prediction_frames"]

REARRANGING, STABLE, UNLABELLED = 1, 0, -1


@dataclass(frozen=True)
class HopSettings:
    """How rearrangements are read from a trajectory (module notes).

    Parameters
    ----------
    half_window : int, default 5
        w, frames on either side of t in p_hop (≥ 1).
    threshold : float, default 0.2
        p_c (length², > 0): rearranging above it.
    stable_threshold : float, optional
        Non-rearranging below it over the stable window (length², 0 < it ≤ p_c); default p_c.
    stable_window : int, optional
        Frames on either side of t over which p_hop must stay low (≥ 0); default 2 w.
    max_frames : int, default 10
        Frames described per trajectory (≥ 1).

    Raises
    ------
    ValueError
        A value out of its range.
    """

    half_window: int = 5
    threshold: float = 0.2
    stable_threshold: float | None = None
    stable_window: int | None = None
    max_frames: int = 10

    def __post_init__(self) -> None:
        for name in ("half_window", "max_frames"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
            object.__setattr__(self, name, int(value))
        if not (np.isfinite(self.threshold) and self.threshold > 0):
            raise ValueError(f"threshold must be a length² > 0, got {self.threshold!r}")
        low = self.threshold if self.stable_threshold is None else self.stable_threshold
        if not (np.isfinite(low) and 0 < low <= self.threshold):
            raise ValueError(f"stable_threshold must be > 0 and at most threshold ({self.threshold:g}), got {low!r}")
        window = 2 * self.half_window if self.stable_window is None else self.stable_window
        if int(window) != window or window < 0:
            raise ValueError(f"stable_window must be an integer >= 0 (frames), got {window!r}")
        object.__setattr__(self, "stable_threshold", float(low))
        object.__setattr__(self, "stable_window", int(window))

    @property
    def frames_needed(self) -> int:
        """Shortest trajectory with a frame where both classes can be labelled: 2 (w + stable window) + 1."""
        return 2 * (self.half_window + self.stable_window) + 1

    def describe(self) -> str:
        """One line for captions and logs."""
        return (f"rearranging: p_hop > {self.threshold:g}; not rearranging: p_hop < {self.stable_threshold:g} within "
                f"{self.stable_window} frames; p_hop windows of {self.half_window} frames")


def in_words(message: str, words: Iterable[tuple[str, str]]) -> str:
    """A :class:`HopSettings` message with its field names replaced, e.g. by command-line options.

    Parameters
    ----------
    message : str
        The message of the ``ValueError``.
    words : iterable of (str, str)
        Field name and what to call it (``("threshold", "--threshold")``); a name is replaced only
        as a whole word, so ``threshold`` leaves ``stable_threshold`` alone.
    """
    for name, word in words:
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", word, message)
    return message


def hop_labels(phop: np.ndarray, settings: HopSettings) -> np.ndarray:
    """Label of every particle at every frame (module notes).

    Parameters
    ----------
    phop : ndarray, shape (T, N)
        From :func:`.dynamics.p_hop` (NaN where undefined).
    settings : HopSettings

    Returns
    -------
    ndarray of int8, shape (T, N)
        :data:`REARRANGING` (1), :data:`STABLE` (0) or :data:`UNLABELLED` (−1).
    """
    phop = np.asarray(phop, dtype=float)
    if phop.ndim != 2:
        raise ValueError(f"phop must have shape (T, N), got {phop.shape}")
    labels = np.full(phop.shape, UNLABELLED, dtype=np.int8)
    low = np.where(np.isfinite(phop), phop < settings.stable_threshold, False).astype(np.int32)
    s, T = settings.stable_window, len(phop)
    if T >= 2 * s + 1:
        # frames t whose window [t - s, t + s] is low throughout: a running sum over 2 s + 1 frames
        counts = np.cumsum(np.vstack([np.zeros((1, phop.shape[1]), np.int32), low]), axis=0)
        window_low = counts[2 * s + 1:] - counts[: T - 2 * s] == 2 * s + 1
        labels[s:T - s][window_low] = STABLE
    labels[np.nan_to_num(phop, nan=-np.inf) > settings.threshold] = REARRANGING
    return labels


def trajectory_labels(trajectory: GlassTrajectory, settings: HopSettings) -> tuple[np.ndarray, np.ndarray]:
    """p_hop (T, N) and labels (T, N) of a trajectory.

    Raises
    ------
    ValueError
        A trajectory shorter than :attr:`HopSettings.frames_needed`.
    """
    if trajectory.n_frames < settings.frames_needed:
        raise ValueError(f"the trajectory has {trajectory.n_frames} frames; p_hop windows of {settings.half_window} "
                         f"frames and a stable window of {settings.stable_window} frames need at least "
                         f"{settings.frames_needed} (shorten the windows or give a longer trajectory)")
    phop = p_hop(trajectory.positions, settings.half_window)
    return phop, hop_labels(phop, settings)


def training_frames(labels: np.ndarray, settings: HopSettings, mask: np.ndarray | None = None) -> np.ndarray:
    """Frames richest in rearranging particles (of ``mask``), at least ``half_window`` apart.

    Returns
    -------
    ndarray of int, shape (≤ max_frames,)
        Sorted frames with at least one rearranging and one stable particle; empty when none has.
    """
    mask = np.ones(labels.shape[1], dtype=bool) if mask is None else mask
    rearranging = np.sum(labels[:, mask] == REARRANGING, axis=1)
    usable = (rearranging > 0) & np.any(labels[:, mask] == STABLE, axis=1)
    chosen: list[int] = []
    for t in np.argsort(-rearranging, kind="stable"):
        if len(chosen) == settings.max_frames:
            break
        if usable[t] and all(abs(int(t) - c) >= settings.half_window for c in chosen):
            chosen.append(int(t))
    return np.array(sorted(chosen), dtype=int)


def prediction_frames(n_frames: int, settings: HopSettings) -> np.ndarray:
    """Up to ``max_frames`` frames evenly spaced where p_hop is defined (w … T − 1 − w)."""
    w = settings.half_window
    if n_frames < 2 * w + 1:
        raise ValueError(f"the trajectory has {n_frames} frames; p_hop windows of {w} frames need at least {2 * w + 1}")
    return np.unique(np.linspace(w, n_frames - 1 - w, min(settings.max_frames, n_frames - 2 * w)).round().astype(int))
