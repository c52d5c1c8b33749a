"""Score detections against known particles: matches, misses, false alarms, in-plane error.

Order-free, as trackpy's tests do: a KD-tree of the detections per frame, each true particle
matched to the nearest detection within ``radius`` px, nearest pairs first, each detection used
once. Units: px.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["DetectionScore", "score_detections"]


@dataclass(frozen=True)
class DetectionScore:
    """Detections scored against the truth.

    Attributes
    ----------
    particles : int
        True particles.
    detections : int
        Detections.
    matched : int
        True particles matched to a detection within the radius.
    errors : ndarray of float, shape (matched,)
        In-plane distance of each match, px.
    """

    particles: int
    detections: int
    matched: int
    errors: np.ndarray

    @property
    def false_negatives(self) -> int:
        """True particles without a detection."""
        return self.particles - self.matched

    @property
    def false_positives(self) -> int:
        """Detections without a true particle."""
        return self.detections - self.matched

    @property
    def false_negative_rate(self) -> float:
        """Misses per true particle (0 when there are none)."""
        return self.false_negatives / self.particles if self.particles else 0.0

    @property
    def false_positive_rate(self) -> float:
        """False alarms per detection (0 when there are none)."""
        return self.false_positives / self.detections if self.detections else 0.0

    @property
    def rms_error(self) -> float:
        """Root-mean-square in-plane error of the matches, px (NaN without matches)."""
        return float(np.sqrt(np.mean(self.errors**2))) if self.errors.size else float("nan")


def score_detections(found: pd.DataFrame, truth: pd.DataFrame, radius: float = 3.0) -> DetectionScore:
    """Match detections to true particles frame by frame.

    Parameters
    ----------
    found, truth : pandas.DataFrame
        Columns ``x, y`` (px) and, for several frames, ``frame`` in both.
    radius : float, default 3
        Largest distance of a match, px (> 0).

    Returns
    -------
    DetectionScore

    Raises
    ------
    ValueError
        Missing columns, ``frame`` in one table only, or ``radius ≤ 0``.
    """
    for name, table in (("found", found), ("truth", truth)):
        missing = [c for c in ("x", "y") if c not in table.columns]
        if missing:
            raise ValueError(f"{name} needs columns x, y; missing {missing}")
    if ("frame" in found.columns) != ("frame" in truth.columns):
        raise ValueError("give a 'frame' column in both tables or in neither")
    if not radius > 0:
        raise ValueError(f"radius must be positive (px); got {radius!r}")
    if "frame" in truth.columns:
        frames = sorted(set(truth["frame"]) | set(found["frame"]))
        groups = [(found[found["frame"] == f], truth[truth["frame"] == f]) for f in frames]
    else:
        groups = [(found, truth)]
    errors: list[float] = []
    for detections, particles in groups:
        if len(detections) == 0 or len(particles) == 0:
            continue
        points = detections[["x", "y"]].to_numpy(float)
        targets = particles[["x", "y"]].to_numpy(float)
        pairs = cKDTree(points).query_ball_point(targets, r=radius)
        candidates = sorted((float(np.hypot(*(points[j] - targets[i]))), i, j)
                            for i, near in enumerate(pairs) for j in near)
        used_particles: set[int] = set()
        used_detections: set[int] = set()
        for distance, i, j in candidates:
            if i in used_particles or j in used_detections:
                continue
            used_particles.add(i)
            used_detections.add(j)
            errors.append(distance)
    return DetectionScore(len(truth), len(found), len(errors), np.asarray(errors))
