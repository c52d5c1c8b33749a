"""Tracks of particles: linking, MSD, diffusion coefficients and populations (issue 13, "Tracks").

Modules, one job each:

* :mod:`.table` — read and check a CSV or table of detections/tracks (frame, x, y[, particle]);
* :mod:`.linking` — link detections into tracks with trackpy;
* :mod:`.msd` — time-averaged MSD per track and the ensemble average;
* :mod:`.diffusion` — D and localisation error from a line through the first MSD points
  (Michalet 2010's number of points), with the standard error of D;
* :mod:`.features` — per-track step statistics (log D, α, non-Gaussian parameter, R_g ratio,
  confinement ratio);
* :mod:`.clustering` — Ward clustering of standardised features, number of clusters by the gap
  statistic (1 when there is no structure);
* :mod:`.populations` — per-cluster summary and ensemble MSD;
* :mod:`.analysis` — the whole pipeline in one call;
* :mod:`.simulate` — seeded free and trapped tracks with known truth.

Lengths are px, or µm with a pixel size (µm/px); times s; D in unit²/s.
"""

from .analysis import TrackAnalysis, analyse_tracks
from .clustering import CLUSTER_FEATURES, TrackClusters, cluster_tracks
from .diffusion import fit_diffusion, fit_ensemble_diffusion, msd_covariance, optimal_fit_points
from .features import FEATURES, track_features
from .linking import link_tracks, tracks_from_table
from .msd import TrackMSD, ensemble_msd, track_msd
from .populations import population_msd, summarise_populations
from .simulate import Population, simulate_tracks, trapped_msd
from .table import POSITION_COLUMNS, TRACK_COLUMNS, check_tracks, read_tracks

__all__ = [
    "CLUSTER_FEATURES",
    "FEATURES",
    "POSITION_COLUMNS",
    "TRACK_COLUMNS",
    "Population",
    "TrackAnalysis",
    "TrackClusters",
    "TrackMSD",
    "analyse_tracks",
    "check_tracks",
    "cluster_tracks",
    "ensemble_msd",
    "fit_diffusion",
    "fit_ensemble_diffusion",
    "link_tracks",
    "msd_covariance",
    "optimal_fit_points",
    "population_msd",
    "read_tracks",
    "simulate_tracks",
    "summarise_populations",
    "track_features",
    "track_msd",
    "tracks_from_table",
    "trapped_msd",
]
