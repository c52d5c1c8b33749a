"""What the app and the CLI show of a :class:`.analysis.TrackAnalysis`: tables with units, the reason for k.

* :func:`cluster_choice` — the number of clusters in words, with the numbers of the rule that chose it
  (:mod:`.clustering`: gap statistic for k = 1, else the lowest BIC);
* :func:`summary_table` — one row per cluster, units in the column names;
* :func:`track_table` — one row per track (the per-track CSV), units in the column names.

Units: lengths in the result's unit (``µm`` with a pixel size, else ``px``); times in ``time_unit``
(``s``, or ``frame`` when the caller analysed with a frame interval of 1 because the real one is
unknown).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import TrackAnalysis
from .clustering import TrackClusters, gap_structure

__all__ = ["CONFINED_ALPHA", "cluster_choice", "summary_table", "track_table"]

#: A cluster whose mean MSD exponent α is below this is called confined or subdiffusive: its MSD
#: bends within the lags of the line fit, so its D is an apparent value (:mod:`.populations`). Free
#: tracks with a localisation error comparable to a step give α ≈ 0.8 (the slow example
#: population), the trapped example population α ≈ 0.4.
CONFINED_ALPHA = 0.6


def cluster_choice(clusters: TrackClusters) -> str:
    """The number of clusters and why, in one sentence with the numbers of the rule.

    Parameters
    ----------
    clusters : TrackClusters
        From :func:`.clustering.cluster_tracks` (or ``TrackAnalysis.clusters``).

    Returns
    -------
    str
        E.g. ``"3 clusters: the tracks have structure (gap statistic: Gap(1) = 0.11 < Gap(3) − s₃ =
        0.26, the largest gap at k = 3), and of the Ward cuts into 2 … 6 clusters the one into 3 has
        the lowest BIC (663; next best 4: 719)"``.
    """
    k, n = clusters.n_clusters, len(clusters.clustered)
    if len(clusters.ks) < 2:
        return (f"1 cluster: {n} track{'s' * (n != 1)} with all features cannot be split (3 or more with "
                "varying features are needed)")
    structure, k_star = gap_structure(clusters.gap, clusters.gap_se)
    gap1, threshold = float(clusters.gap[0]), float(clusters.gap[k_star - 1] - clusters.gap_se[k_star - 1])
    rule = f"Gap({k_star}) − s{_subscript(k_star)}"
    if k == 1:
        if not structure:
            compared = (f"Gap(1) = {gap1:.2f} is the largest gap" if k_star == 1 else
                        f"Gap(1) = {gap1:.2f} ≥ {rule} = {threshold:.2f}, the largest gap less its standard error")
            return (f"1 cluster: no structure (gap statistic: {compared}; splitting the tracks helps no more than "
                    "splitting structureless data of the same extent)")
        return ("1 cluster: every split into 2 or more clusters leaves a cluster too small for its covariance "
                f"({len(clusters.columns) + 1} tracks or fewer), so no split is admissible")
    bic = np.asarray(clusters.bic, dtype=float)
    ks = np.asarray(clusters.ks)
    finite = [(b, int(kk)) for b, kk in zip(bic[1:], ks[1:]) if np.isfinite(b)]
    ranked = sorted(finite)
    best = ranked[0][0]
    runner = f"; next best {ranked[1][1]}: {ranked[1][0]:.0f}" if len(ranked) > 1 else ""
    structure = (f"{k} clusters: the tracks have structure (gap statistic: Gap(1) = {gap1:.2f} < {rule} = "
                 f"{threshold:.2f}, the largest gap at k = {k_star})")
    if int(ks[-1]) == 2:
        return f"{structure}; 2 is the most clusters tried"
    choice = (f"{structure}, and of the Ward cuts into 2 … {int(ks[-1])} clusters the one into {k} has the lowest "
              f"BIC ({best:.0f}{runner})")
    return choice + ("; it is the most clusters tried: allow more to see whether more fit better"
                     if k == int(ks[-1]) else "")


def _subscript(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def summary_table(result: TrackAnalysis, time_unit: str = "s") -> pd.DataFrame:
    """One row per cluster with units in the column names.

    Parameters
    ----------
    result : TrackAnalysis
    time_unit : str, default ``"s"``
        Name of the time unit of the analysis (``"frame"`` when analysed with a frame interval of 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``cluster``, ``tracks``, ``D (L²/T)`` (ensemble-MSD fit, Michalet's number of
        points), ``D s.e. (L²/T)`` (its standard error), ``D spread (L²/T)`` (standard deviation of
        the per-track D), ``D short-time (L²/T)`` (median over tracks of the first-lags D),
        ``alpha`` and ``alpha spread`` (mean and standard deviation over tracks), ``σ (L)`` (localisation
        error from the fit's offset) and ``motion`` (``"confined or subdiffusive"`` below
        :data:`CONFINED_ALPHA`, where D is apparent; ``"directed"`` above 1.3; else ``"diffusive"``).
    """
    d_unit, unit = f"{result.unit}²/{time_unit}", result.unit
    s = result.summary
    motion = np.where(s["alpha"] < CONFINED_ALPHA, "confined or subdiffusive",
                      np.where(s["alpha"] > 1.3, "directed", "diffusive"))
    return pd.DataFrame({"cluster": s.index.to_numpy(int), "tracks": s["n_tracks"].to_numpy(int),
                         f"D ({d_unit})": s["D"].to_numpy(), f"D s.e. ({d_unit})": s["D_err"].to_numpy(),
                         f"D spread ({d_unit})": s["D_spread"].to_numpy(),
                         f"D short-time ({d_unit})": s["D_short"].to_numpy(), "alpha": s["alpha"].to_numpy(),
                         "alpha spread": s["alpha_spread"].to_numpy(), f"σ ({unit})": s["sigma"].to_numpy(),
                         "motion": motion})


def track_table(result: TrackAnalysis, time_unit: str = "s") -> pd.DataFrame:
    """One row per track: the per-track CSV of the app and the CLI.

    Parameters
    ----------
    result : TrackAnalysis
    time_unit : str, default ``"s"``
        As :func:`summary_table`.

    Returns
    -------
    pandas.DataFrame
        ``particle``, ``cluster`` (−1: too short to cluster), ``positions``, ``duration (T)``,
        ``D (L²/T)`` and ``D s.e. (L²/T)`` (line through Michalet's optimal number of MSD points),
        ``σ (L)`` (localisation error), the clustering features ``D short-time (L²/T)`` (first four
        lags), ``alpha``, ``log10_rg_ratio``, ``non_gaussian``, ``confinement_ratio``, and
        ``step rms (L)``; then every extra column of the input that is constant within each track
        (e.g. a simulated file's ``population``).
    """
    d_unit, unit = f"{result.unit}²/{time_unit}", result.unit
    f, fit = result.features, result.diffusion.reindex(result.features.index)
    table = pd.DataFrame({
        "particle": f.index.to_numpy(np.int64), "cluster": f["cluster"].to_numpy(np.int64),
        "positions": f["n_points"].to_numpy(np.int64), f"duration ({time_unit})": f["duration"].to_numpy(),
        f"D ({d_unit})": fit["D"].to_numpy(), f"D s.e. ({d_unit})": fit["D_err"].to_numpy(),
        f"σ ({unit})": fit["sigma"].to_numpy(), f"D short-time ({d_unit})": 10 ** f["log10_D"].to_numpy(),
        "alpha": f["alpha"].to_numpy(), "log10_rg_ratio": f["log10_rg_ratio"].to_numpy(),
        "non_gaussian": f["non_gaussian"].to_numpy(), "confinement_ratio": f["confinement_ratio"].to_numpy(),
        f"step rms ({unit})": f["step_rms"].to_numpy()})
    extra = [c for c in result.tracks.columns if c not in ("frame", "x", "y", "particle", "cluster")
             and c not in table.columns]
    if extra:
        groups = result.tracks.groupby("particle", sort=True)
        constant = [c for c in extra if (groups[c].nunique(dropna=False) <= 1).all()]
        if constant:
            first = groups[constant].first().reindex(f.index)
            table = pd.concat([table, first.reset_index(drop=True)], axis=1)
    return table
