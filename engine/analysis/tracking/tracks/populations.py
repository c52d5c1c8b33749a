"""Per-population summary: what each cluster of tracks looks like.

For each cluster of :func:`.clustering.cluster_tracks`: the number of tracks, the diffusion
coefficient of the population from its time-and-ensemble-averaged MSD with Michalet's number of
fit points (:func:`.diffusion.fit_ensemble_diffusion`), its standard error and the spread of the
per-track values, the short-time D (median over tracks of the first-lags fit of :mod:`.features`)
and the MSD exponent α. The line model holds for free diffusion; for a confined population
(α well below 1) the MSD bends within the fitted lags, so its ``D`` and ``sigma`` are apparent
values only (in the tests' trap, D = 0.2 µm²/s, the ensemble fit gives ≈ 0.09 and ``D_short``
≈ 0.08): read such a cluster from α and its MSD curve (:func:`population_msd`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .diffusion import fit_ensemble_diffusion
from .msd import TrackMSD, ensemble_msd

__all__ = ["population_msd", "summarise_populations"]


def summarise_populations(msd: TrackMSD, features: pd.DataFrame, labels: pd.Series, *,
                          blur: float = 0.0) -> pd.DataFrame:
    """One row per cluster.

    Parameters
    ----------
    msd : TrackMSD
        MSD of the tracks (:func:`.msd.track_msd`).
    features : pandas.DataFrame
        :func:`.features.track_features` of the same tracks.
    labels : pandas.Series of int
        Cluster per particle (``-1``: not clustered, left out).
    blur : float, default 0
        Motion-blur coefficient (:func:`.diffusion.fit_diffusion`).

    Returns
    -------
    pandas.DataFrame
        Index ``cluster``; columns ``n_tracks``; ``D``, ``D_err``, ``D_spread`` (unit²/s; from the
        ensemble MSD, its standard error, the spread over tracks); ``sigma`` (unit);
        ``D_short`` (unit²/s, median short-time D); ``alpha`` and ``alpha_spread`` (mean and
        standard deviation over tracks).
    """
    rows = []
    for cluster in sorted(c for c in labels.unique() if c >= 0):
        members = labels.index.to_numpy()[labels.to_numpy() == cluster]
        fit = fit_ensemble_diffusion(msd, np.sort(members), blur=blur)
        part = features.loc[members]
        rows.append({"cluster": int(cluster), "n_tracks": len(members), "D": fit["D"], "D_err": fit["D_err"],
                     "D_spread": fit["D_spread"], "sigma": fit["sigma"],
                     "D_short": float(np.nanmedian(10 ** part["log10_D"])),
                     "alpha": float(part["alpha"].mean()), "alpha_spread": float(part["alpha"].std())})
    columns = ["n_tracks", "D", "D_err", "D_spread", "sigma", "D_short", "alpha", "alpha_spread"]
    if not rows:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="cluster"))
    return pd.DataFrame(rows).set_index("cluster")[columns]


def population_msd(msd: TrackMSD, labels: pd.Series) -> pd.DataFrame:
    """Ensemble MSD of each cluster, for plots.

    Returns
    -------
    pandas.DataFrame
        Long format: ``cluster, lag, lag_time`` (s), ``msd`` (unit²), ``pairs``, ``tracks``.
    """
    parts = []
    for cluster in sorted(c for c in labels.unique() if c >= 0):
        members = np.sort(labels.index.to_numpy()[labels.to_numpy() == cluster])
        parts.append(ensemble_msd(msd, members).reset_index().assign(cluster=int(cluster)))
    if not parts:
        return pd.DataFrame(columns=["cluster", "lag", "lag_time", "msd", "pairs", "tracks"])
    return pd.concat(parts, ignore_index=True)[["cluster", "lag", "lag_time", "msd", "pairs", "tracks"]]
