"""Torch surrogates behind a scikit-learn API (CPU and CUDA).

Grid models for checkerboard / hierarchical designs (:mod:`.grid`), spinodoid forward nets
(:mod:`.spinodoid`), the tandem inverse net (:mod:`.inverse`), deep ensembles (:mod:`.ensemble`),
the Kumar et al. (2020) data loader (:mod:`.data`) and common save/load (:mod:`.base`).
"""

from engine.surrogates.base import TorchSurrogate, load_surrogate
from engine.surrogates.data import (
    SPINODOID_PARAMS,
    STIFFNESS_COMPONENTS,
    check_spinodoid_params,
    load_kumar2020,
    snap_angles,
    train_test_split_indices,
)
from engine.surrogates.ensemble import SurrogateEnsemble
from engine.surrogates.grid import (
    GridCNNClassifier,
    GridCNNRegressor,
    GridLinearClassifier,
    GridLinearRegressor,
    check_grids,
    good_bad_labels,
)
from engine.surrogates.inverse import CONE_PATTERNS, InverseCandidate, TandemInverse
from engine.surrogates.spinodoid import SpinodoidEquivariantNet, SpinodoidPublishedNet, permute_axes

__all__ = [
    "CONE_PATTERNS",
    "GridCNNClassifier",
    "GridCNNRegressor",
    "GridLinearClassifier",
    "GridLinearRegressor",
    "InverseCandidate",
    "SPINODOID_PARAMS",
    "STIFFNESS_COMPONENTS",
    "SpinodoidEquivariantNet",
    "SpinodoidPublishedNet",
    "SurrogateEnsemble",
    "TandemInverse",
    "TorchSurrogate",
    "check_grids",
    "check_spinodoid_params",
    "good_bad_labels",
    "load_kumar2020",
    "load_surrogate",
    "permute_axes",
    "snap_angles",
    "train_test_split_indices",
]
