"""Mean squared displacement of every track, time-averaged, and its ensemble average.

For a track with positions ``r_i`` at frames ``f_i`` the time-averaged MSD at a lag of ``n``
frames is the mean of ``|r_j − r_i|²`` over all pairs with ``f_j − f_i = n`` (Qian, Sheetz &
Elson 1991, Biophys. J. 60, 910, eq. 2; Michalet 2010, Phys. Rev. E 82, 041914, eq. 3); gaps
in a track (missed detections) just remove pairs. The ensemble (time-and-ensemble) average pools
all pairs of all tracks at a lag, i.e. weights each track's MSD by its number of pairs — the
same as trackpy's ``emsd`` when the tracks have no gaps and equal lengths.

All lags are computed at once with FFT correlations of the zero-filled positions and of their
mask (``Σ m_i m_{i+n} |r_{i+n} − r_i|²`` expanded into three correlations), tracks padded to a
common length in batches of similar length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.fft import irfft, next_fast_len, rfft

from .table import MAX_COORDINATE, check_tracks

__all__ = ["MAX_MSD_VALUES", "MAX_SPAN", "TrackMSD", "ensemble_msd", "scaled_positions", "track_msd"]

#: Largest padded batch, positions (tracks × frames) per FFT.
_BATCH = 1 << 21
#: Longest track, frames from first to last position. The MSD is computed at every lag up to the
#: span on a dense frame grid (FFT), so a span costs memory even where the track has no
#: positions; 10⁶ frames is 9 h at 30 frames/s or 17 min at 1 kHz, longer than any single-particle
#: track, and a row with a far-off frame number (a typo, a corrupt file) is refused, not allocated.
MAX_SPAN = 1_000_000
#: Most MSD values (tracks × lags) of one call: 16 bytes each (MSD and pair count), 320 MB.
MAX_MSD_VALUES = 20_000_000


@dataclass(frozen=True, eq=False)
class TrackMSD:
    """Time-averaged MSD of each track.

    Attributes
    ----------
    particles : ndarray of int64, shape (n_tracks,)
        Track ids, ascending.
    lags : ndarray of int64, shape (n_lags,)
        Lags in frames, ``1 … max_lag``.
    msd : ndarray of float, shape (n_tracks, n_lags)
        MSD, ``unit``²; NaN where a track has no pair at that lag.
    counts : ndarray of int64, shape (n_tracks, n_lags)
        Number of position pairs averaged.
    n_points : ndarray of int64, shape (n_tracks,)
        Positions per track.
    span : ndarray of int64, shape (n_tracks,)
        Last minus first frame per track.
    frame_interval : float
        Time between frames, s.
    unit : str
        Length unit of the positions (``"px"`` or ``"µm"``).
    dims : int
        Dimensions of the motion (2).
    """

    particles: np.ndarray
    lags: np.ndarray
    msd: np.ndarray
    counts: np.ndarray
    n_points: np.ndarray
    span: np.ndarray
    frame_interval: float
    unit: str
    dims: int = 2

    @property
    def lag_times(self) -> np.ndarray:
        """Lag times ``lags × frame_interval``, s, shape (n_lags,)."""
        return self.lags * self.frame_interval

    def select(self, particles: np.ndarray) -> TrackMSD:
        """The rows of the given track ids (each must be present)."""
        rows = np.searchsorted(self.particles, particles)
        if np.any(rows >= len(self.particles)) or np.any(self.particles[np.minimum(rows, len(self.particles) - 1)]
                                                         != particles):
            raise ValueError("select: unknown particle ids")
        return TrackMSD(self.particles[rows], self.lags, self.msd[rows], self.counts[rows], self.n_points[rows],
                        self.span[rows], self.frame_interval, self.unit, self.dims)

    def to_frame(self) -> pd.DataFrame:
        """Like trackpy's ``imsd``: index lag time (s), one column of MSD (unit²) per particle."""
        return pd.DataFrame(self.msd.T, index=pd.Index(self.lag_times, name="lag time [s]"),
                            columns=pd.Index(self.particles, name="particle"))


def track_msd(tracks: pd.DataFrame, frame_interval: float, *, pixel_size: float | None = None,
              max_lag: int | None = None) -> TrackMSD:
    """Time-averaged MSD of every track.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Columns ``frame, x, y, particle`` (checked with :func:`.table.check_tracks`); x, y in px,
        or in any length unit when ``pixel_size`` is None.
    frame_interval : float
        Time between frames, s (> 0).
    pixel_size : float or None
        µm per px: positions are multiplied by it and the unit is µm. ``None``: positions are
        used as given and the unit is ``"px"``.
    max_lag : int or None
        Largest lag in frames (≥ 1); default the longest track span.

    Returns
    -------
    TrackMSD

    Raises
    ------
    ValueError
        Bad tracks, ``frame_interval`` or ``pixel_size`` not finite and > 0, ``max_lag < 1``, no
        track with two positions, a track spanning more than :data:`MAX_SPAN` frames, more than
        :data:`MAX_MSD_VALUES` tracks × lags, or positions × ``pixel_size`` beyond
        ± :data:`.table.MAX_COORDINATE`.
    """
    if not (isinstance(frame_interval, int | float) and math.isfinite(frame_interval) and frame_interval > 0):
        raise ValueError(f"frame_interval must be a finite number > 0 (s); got {frame_interval!r}")
    if pixel_size is not None and not (isinstance(pixel_size, int | float) and math.isfinite(pixel_size)
                                       and pixel_size > 0):
        raise ValueError(f"pixel_size must be a finite number > 0 (µm/px) or None; got {pixel_size!r}")
    table = check_tracks(tracks, require_particle=True)
    particle = table["particle"].to_numpy()
    frame = table["frame"].to_numpy()
    xy = scaled_positions(table, pixel_size)
    ids, start, n_points = np.unique(particle, return_index=True, return_counts=True)
    row = np.repeat(np.arange(len(ids)), n_points)
    first = frame[start]
    span = frame[start + n_points - 1] - first
    if span.max() < 1:
        raise ValueError("no track has two positions: the MSD needs tracks over at least two frames")
    longest = int(span.max())
    if longest > MAX_SPAN:
        k = int(np.argmax(span))
        raise ValueError(f"particle {ids[k]} spans frames {first[k]} to {first[k] + span[k]} ({span[k]:,} frames "
                         f"from its first to its last position); a track may span at most {MAX_SPAN:,} frames (the "
                         "MSD is computed at every lag up to the span): check the frame column for a corrupt value "
                         "or split the track")
    if max_lag is None:
        max_lag = longest
    if isinstance(max_lag, bool) or int(max_lag) != max_lag or max_lag < 1:
        raise ValueError(f"max_lag must be an integer >= 1 (frames); got {max_lag!r}")
    max_lag = int(max_lag)
    if len(ids) * max_lag > MAX_MSD_VALUES:
        k = int(np.argmax(span))
        raise ValueError(f"{len(ids):,} tracks × {max_lag:,} lags make {len(ids) * max_lag:,} MSD values; at most "
                         f"{MAX_MSD_VALUES:,} are allowed (the longest track, particle {ids[k]}, spans frames "
                         f"{first[k]} to {first[k] + span[k]}): check the frame column for a corrupt value, analyse "
                         "fewer tracks at a time, or give a smaller max_lag")
    msd = np.full((len(ids), max_lag), np.nan)
    counts = np.zeros((len(ids), max_lag), dtype=np.int64)
    # centre each track: smaller numbers, less cancellation in the FFT sums
    centred = xy - (np.add.reduceat(xy, start, axis=0) / n_points[:, None])[row]
    order = np.argsort(span, kind="stable")
    batch: list[int] = []
    for k, track in enumerate(order):
        batch.append(int(track))
        width = int(span[track]) + 1
        if k + 1 == len(order) or (len(batch) + 1) * (int(span[order[k + 1]]) + 1) > _BATCH:
            _batch_msd(np.array(batch), width, start, n_points, frame - first[row], centred, max_lag, msd, counts)
            batch = []
    if not np.all(np.isfinite(msd[counts > 0])):  # cannot happen within MAX_COORDINATE; kept as a guard
        raise ValueError("the MSD overflowed (positions too large for float64); positions must lie within "
                         f"±{MAX_COORDINATE:.0e}")
    return TrackMSD(ids.astype(np.int64), np.arange(1, max_lag + 1, dtype=np.int64), msd, counts,
                    n_points.astype(np.int64), span.astype(np.int64), float(frame_interval),
                    "px" if pixel_size is None else "µm")


def scaled_positions(table: pd.DataFrame, pixel_size: float | None) -> np.ndarray:
    """Positions ``x, y`` of a checked track table times ``pixel_size``, shape (n, 2).

    Parameters
    ----------
    table : pandas.DataFrame
        A table from :func:`.table.check_tracks`; x, y in px (or any unit).
    pixel_size : float or None
        µm per px; ``None`` leaves the positions as they are.

    Returns
    -------
    ndarray of float, shape (n, 2)
        µm with a ``pixel_size``, else the unit of the table.

    Raises
    ------
    ValueError
        A scaled position beyond ± :data:`.table.MAX_COORDINATE` (a huge ``pixel_size``).
    """
    xy = table[["x", "y"]].to_numpy(float) * (1.0 if pixel_size is None else float(pixel_size))
    largest = float(np.abs(xy).max(initial=0.0))
    if not largest <= MAX_COORDINATE:
        raise ValueError(f"positions × pixel_size reach {largest:.3g} µm; they must lie within "
                         f"±{MAX_COORDINATE:.0e} µm: is pixel_size {pixel_size:g} µm per px right?")
    return xy


def _batch_msd(tracks: np.ndarray, width: int, start: np.ndarray, n_points: np.ndarray, local: np.ndarray,
               xy: np.ndarray, max_lag: int, msd: np.ndarray, counts: np.ndarray) -> None:
    """Fill ``msd`` and ``counts`` rows of ``tracks`` (spans ≤ ``width − 1``) by FFT correlation."""
    n = len(tracks)
    lengths = n_points[tracks]
    rows = np.repeat(np.arange(n), lengths)
    source = np.concatenate([np.arange(s, s + c) for s, c in zip(start[tracks], lengths)])
    cols = local[source]
    mask = np.zeros((n, width))
    mask[rows, cols] = 1.0
    pos = np.zeros((n, width, 2))
    pos[rows, cols] = xy[source]
    sq = np.zeros((n, width))
    sq[rows, cols] = np.sum(xy[source] ** 2, axis=1)
    size = next_fast_len(2 * width, real=True)
    lags = min(max_lag, width - 1)

    def corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``Σ_i a_i b_{i+n}`` for n = 1 … lags, along the frame axis."""
        return irfft(np.conj(rfft(a, size, axis=1)) * rfft(b, size, axis=1), size, axis=1)[:, 1:lags + 1]

    pairs = corr(mask, mask)
    cross = sum(corr(pos[..., k], pos[..., k]) for k in range(2))
    total = corr(mask, sq) + corr(sq, mask) - 2 * cross
    count = np.rint(pairs).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(count > 0, np.maximum(total, 0.0) / np.maximum(count, 1), np.nan)
    msd[tracks, :lags] = value
    counts[tracks, :lags] = count


def ensemble_msd(result: TrackMSD, particles: np.ndarray | None = None) -> pd.DataFrame:
    """Time-and-ensemble-averaged MSD: all pairs of all (selected) tracks pooled per lag.

    Parameters
    ----------
    result : TrackMSD
    particles : ndarray of int or None
        Track ids to average (default all).

    Returns
    -------
    pandas.DataFrame
        Index ``lag`` (frames); columns ``lag_time`` (s), ``msd`` (unit²; NaN without pairs),
        ``pairs`` (position pairs pooled) and ``tracks`` (tracks contributing).
    """
    sub = result if particles is None else result.select(np.asarray(particles))
    weights = sub.counts.astype(float)
    pairs = weights.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(pairs > 0, np.nansum(sub.msd * weights, axis=0) / np.maximum(pairs, 1), np.nan)
    return pd.DataFrame({"lag_time": sub.lag_times, "msd": mean, "pairs": pairs.astype(np.int64),
                         "tracks": (sub.counts > 0).sum(axis=0)}, index=pd.Index(sub.lags, name="lag"))
