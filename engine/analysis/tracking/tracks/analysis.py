"""The tracks pipeline in one call: table → tracks → MSD → D → features → clusters → summary.

The engine side of the app's tracks page and of batch use: everything is computed from a track
table (or detections to link) and returned in one read-only result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .clustering import CLUSTER_FEATURES, TrackClusters, cluster_tracks
from .diffusion import fit_diffusion, longest_fit
from .features import ALPHA_LAGS, track_features
from .linking import tracks_from_table
from .msd import MAX_MSD_VALUES, TrackMSD, track_msd
from .populations import population_msd, summarise_populations

__all__ = ["TrackAnalysis", "analyse_tracks"]


@dataclass(frozen=True, eq=False)
class TrackAnalysis:
    """Result of :func:`analyse_tracks`.

    Attributes
    ----------
    tracks : pandas.DataFrame
        The track table (linked if needed) with a ``cluster`` column (``-1``: not clustered).
    msd : TrackMSD
        Time-averaged MSD per track.
    diffusion : pandas.DataFrame
        Per-track D with Michalet's number of fit points (:func:`.diffusion.fit_diffusion`).
    features : pandas.DataFrame
        Per-track features (:func:`.features.track_features`) with a ``cluster`` column.
    clusters : TrackClusters
    summary : pandas.DataFrame
        One row per cluster (:func:`.populations.summarise_populations`).
    population_msd : pandas.DataFrame
        Ensemble MSD per cluster, long format (:func:`.populations.population_msd`).
    unit : str
        Length unit of the results (``"px"`` or ``"µm"``).
    """

    tracks: pd.DataFrame
    msd: TrackMSD
    diffusion: pd.DataFrame
    features: pd.DataFrame
    clusters: TrackClusters
    summary: pd.DataFrame
    population_msd: pd.DataFrame
    unit: str


def analyse_tracks(table: pd.DataFrame, frame_interval: float, *, pixel_size: float | None = None,
                   search_range: float | None = None, memory: int = 0, min_points: int = 10,
                   max_lag: int | None = None, columns: Sequence[str] = CLUSTER_FEATURES, k_max: int = 6,
                   n_references: int = 20, blur: float = 0.0, seed: int | np.random.Generator = 0) -> TrackAnalysis:
    """Link (if needed), measure and cluster tracks.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``frame, x, y[, particle]`` (:func:`.table.read_tracks` for a CSV); x, y in px
        (or any unit when ``pixel_size`` is None).
    frame_interval : float
        Time between frames, s (> 0).
    pixel_size : float or None
        µm per px; results in µm (else in the unit of x, y, called ``"px"``).
    search_range : float or None
        Linking distance in the unit of x, y, needed without a particle column.
    memory : int, default 0
        Linking memory, frames.
    min_points : int, default 10
        Tracks with fewer positions (≥ 5) are measured but not clustered.
    max_lag : int or None
        Largest MSD lag in frames (≥ 10, the lags of the α feature). Default: the longest track's
        span, cut where tracks × lags would exceed :data:`.msd.MAX_MSD_VALUES` but not below the
        lags the fits read (:func:`.diffusion.longest_fit` of the longest track, and 10): lags
        beyond those only lengthen the population MSD curves (``result.msd.lags``).
    columns, k_max, n_references, seed
        As :func:`.clustering.cluster_tracks`.
    blur : float, default 0
        Motion-blur coefficient ``R`` (:func:`.diffusion.fit_diffusion`).

    Returns
    -------
    TrackAnalysis

    Raises
    ------
    ValueError
        Bad input (see the functions called), ``min_points < 5``, ``max_lag < 10``, or no track
        with ``min_points`` positions.
    """
    if isinstance(min_points, bool) or int(min_points) != min_points or min_points < 5:
        raise ValueError(f"min_points must be an integer >= 5; got {min_points!r}")
    if max_lag is not None and (isinstance(max_lag, bool) or int(max_lag) != max_lag or max_lag < ALPHA_LAGS):
        raise ValueError(f"max_lag must be an integer >= {ALPHA_LAGS} (frames: the MSD exponent alpha is read over "
                         f"lags 1 to {ALPHA_LAGS}); got {max_lag!r}")
    tracks = tracks_from_table(table, search_range=search_range, memory=memory)
    msd = track_msd(tracks, frame_interval, pixel_size=pixel_size,
                    max_lag=_default_max_lag(tracks) if max_lag is None else max_lag)
    diffusion = fit_diffusion(msd, blur=blur)
    features = track_features(tracks, frame_interval, pixel_size=pixel_size, msd=msd)
    long_enough = features["n_points"] >= min_points
    if not long_enough.any():
        raise ValueError(f"no track has {min_points} positions or more (longest: {int(features['n_points'].max())}); "
                         "link with a larger search_range or memory, or lower min_points")
    clusters = cluster_tracks(features[long_enough], columns=columns, k_max=k_max, n_references=n_references,
                              seed=seed)
    labels = clusters.labels.reindex(features.index, fill_value=-1).astype(np.int64)
    summary = summarise_populations(msd, features, labels, blur=blur)
    return TrackAnalysis(tracks.assign(cluster=labels.loc[tracks["particle"]].to_numpy()), msd, diffusion,
                         features.assign(cluster=labels), clusters, summary, population_msd(msd, labels), msd.unit)


def _default_max_lag(tracks: pd.DataFrame) -> int | None:
    """Every lag up to the longest span (None) unless tracks × lags exceed the MSD's bound; then the
    most lags the bound allows, or at least those the fits read (:func:`.msd.track_msd` refuses
    what still does not fit)."""
    groups = tracks.groupby("particle")["frame"]
    longest = int((groups.max() - groups.min()).max())
    if groups.ngroups * longest <= MAX_MSD_VALUES:
        return None
    needed = max(ALPHA_LAGS, int(longest_fit(int(groups.size().max()))))
    return max(needed, MAX_MSD_VALUES // groups.ngroups)
