"""Unsupervised structural order parameter of a glass (Boattini et al. 2020).

Boattini, Marín-Aguilar, Mitra, Foffi, Smallenburg & Filion, "Autonomously revealing hidden
local structures in supercooled liquids", Nat. Commun. 11, 5479 (2020): no dynamics is used.

1. Each particle i is described by the Lechner–Dellago averaged bond-order parameters
   (J. Chem. Phys. 129, 114707 (2008), Eq. 6), l = 1 … 8 by default::

       q_lm(i) = 1/N_b(i) Σ_{j ∈ nb(i)} Y_lm(r̂_ij)
       q̄_lm(i) = 1/(N_b(i) + 1) Σ_{k ∈ {i} ∪ nb(i)} q_lm(k)
       q̄_l(i)  = sqrt( 4π/(2l + 1) Σ_m |q̄_lm(i)|² )

   computed by freud (:func:`..ordering.steinhardt.steinhardt`). Neighbours of every species
   count. ``neighbors``: ``"sann"`` (solid-angle nearest neighbours, van Meel et al. 2012,
   parameter-free), a fixed count (int), ``"voronoi"``, or a cutoff radius (float, length
   units; the first minimum of g(r), e.g. 1.4 σ_AA for Kob–Andersen A–A).
2. A fully connected autoencoder compresses the standardised q̄ vector to a code of
   ``n_code`` = 2 dimensions, minimising the mean squared reconstruction error plus an L2
   weight penalty (:class:`..ordering.autoencoder.DescriptorAutoencoder`, the project's
   implementation of Boattini, Dijkstra & Filion, J. Chem. Phys. 151, 154901 (2019)).
3. A two-component Gaussian mixture is fitted on the code, p(z) = Σ_k π_k N(z | μ_k, Σ_k).
4. The order parameter is each particle's membership probability of the "mobile" cluster,
   P(i) = π_m N(z_i | μ_m, Σ_m) / Σ_k π_k N(z_i | μ_k, Σ_k) ∈ [0, 1]. The paper names the
   clusters by comparing them with the dynamics afterwards; here the mobile cluster is fixed
   at fit time from structure alone (``mobile``):

   * ``"looser"`` (default): the cluster of larger mean ln(V_i / V_med), V_i the particle's
     Voronoi volume (area in 2D) and V_med the median over particles of its species in the
     same system — the lower local packing, i.e. more free volume (Cohen & Turnbull, J. Chem.
     Phys. 31, 1164 (1959)). Normalising per species keeps small particles from counting
     as dense; the median and the logarithm keep the huge cells at the faces of a
     non-periodic box from dominating.
   * ``"less_ordered"``: the cluster of lower mean q̄ (mean over l and over its members).

   Why ``"looser"`` is the default: q̄_l grow as a particle's neighbour count falls (fewer bond
   vectors average out less) and odd-l q̄_l are larger in a liquid than in a centrosymmetric
   crystal, so a low mean q̄ does not reliably mean "disordered". On the Kob–Andersen A
   particles the higher-q̄ cluster was the looser one; checked afterwards against propensity
   (the rule itself sees none), its probability had the physically expected positive sign,
   which ``"less_ordered"`` reverses. For a crystal next to a looser liquid both rules pick the
   liquid (tests).

A cluster's looseness and order are means over the training particles weighted by their
membership probabilities (a tie picks cluster 0). The encoder, mixture and mobile cluster are
fitted once (:func:`fit_unsupervised`) and applied unchanged to new systems
(:meth:`UnsupervisedOrder.probability`). Everything is seeded by ``random_state`` (network
weights, minibatch order, mixture starts); torch runs on CPU, so one machine and one torch
thread count give identical results.

Measured on Kob–Andersen 80:20 at T = 0.44, t ≈ τα (``tests/data/glass``; fit on the
particles of configurations 1–10 without propensity, Pearson r of P with propensity averaged
over configurations 401–403; ``tests/benchmarks/bench_softness_unsupervised.py``, seeds 0–2,
100 epochs):

==========================================  =======================  =====================
                                            SANN                     cutoff 1.4 σ_AA
==========================================  =======================  =====================
P, A particles (model fitted on A)          0.023 / 0.032 / −0.001   0.030 / 0.045 / 0.027
P, B particles (model fitted on B)          0.096 / −0.006 / −0.023  0.160 / 0.106 / 0.081
P, species-blind model, seed 0: A / all     0.019 / −0.010           0.046 / −0.018
supervised ridge on the same q̄_l, A        0.141                    0.187
shipped supervised ridge (:mod:`.shipped`)  0.567                    0.567
==========================================  =======================  =====================

So with q̄_1…q̄_8 the unsupervised order parameter carries next to no information on
Kob–Andersen propensity: single q̄_l correlate with it at |r| ≤ 0.1, the two-dimensional code
keeps half their variance (FVE ≈ 0.5), and even a supervised linear fit of the same inputs stays
below 0.2. Boattini et al. report strong correlations for their systems; we do not reproduce
that for this data. The cluster gap in looseness is small here (mean ln V differs by ~0.01), and
``"less_ordered"`` picks the other cluster on A particles (r ≈ −0.02 … −0.04). Fit time: ~12 s
for 32 770 particles on one idle CPU thread (freud descriptors < 0.5 s per configuration; the
rest is the autoencoder).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import freud
import numpy as np

from ..ordering.autoencoder import DescriptorAutoencoder
from ..ordering.neighbors import ball_pairs
from ..ordering.steinhardt import steinhardt
from ..ordering.systems import ParticleSystem

__all__ = ["UnsupervisedRecipe", "UnsupervisedOrder", "describe", "fit_unsupervised"]

Neighbors = int | float | str


@dataclass(frozen=True)
class UnsupervisedRecipe:
    """Settings of the unsupervised order parameter (module notes).

    Parameters
    ----------
    ls : tuple of int, default (1, …, 8)
        Degrees l of the averaged bond-order parameters q̄_l (each ≥ 1).
    neighbors : int, float or {"sann", "voronoi"}, default "sann"
        Neighbour definition: SANN, Voronoi faces, the k nearest (int k ≥ 1) or every particle
        closer than a cutoff (float, length units, below half the box length).
    species : str, optional
        Fit and describe only particles of this species (their neighbours may be of any
        species); other particles get NaN. None: every particle, species ignored.
    mobile : {"looser", "less_ordered"}, default "looser"
        Which cluster's probability is returned (module notes).
    n_code : int, default 2
        Autoencoder bottleneck width.
    hidden : int, optional
        Hidden-layer width; default 10 × len(ls) (Boattini et al. 2019).
    epochs, batch_size : int, default 100, 256
        Adam passes over the training particles and particles per step.
    learning_rate, weight_decay : float, default 1e-3, 1e-5
        Adam step size and L2 weight penalty.
    random_state : int, default 0
        Seed of the network, the minibatch order and the mixture.

    Raises
    ------
    ValueError
        Any setting out of its range.
    """

    ls: tuple[int, ...] = tuple(range(1, 9))
    neighbors: Neighbors = "sann"
    species: str | None = None
    mobile: Literal["looser", "less_ordered"] = "looser"
    n_code: int = 2
    hidden: int | None = None
    epochs: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    random_state: int = 0

    def __post_init__(self) -> None:
        ls = tuple(self.ls) if isinstance(self.ls, (list, tuple, range)) else None
        if not ls or any(isinstance(l, bool) or not isinstance(l, (int, np.integer)) or l < 1 for l in ls):
            raise ValueError(f"ls must be one or more integers >= 1, got {self.ls!r}")
        object.__setattr__(self, "ls", tuple(int(l) for l in ls))
        nb = self.neighbors
        if isinstance(nb, bool) or not (
            nb in ("sann", "voronoi")
            or (isinstance(nb, (int, np.integer)) and nb >= 1)
            or (isinstance(nb, (float, np.floating)) and np.isfinite(nb) and nb > 0)
        ):
            raise ValueError(
                f"neighbors must be 'sann', 'voronoi', a count >= 1 (int) or a cutoff > 0 "
                f"(float, length units); got {nb!r}"
            )
        if self.species is not None and (not isinstance(self.species, str) or not self.species):
            raise ValueError(f"species must be a non-empty string or None, got {self.species!r}")
        if self.mobile not in ("looser", "less_ordered"):
            raise ValueError(f"mobile must be 'looser' or 'less_ordered', got {self.mobile!r}")
        for name in ("n_code", "epochs", "batch_size") + (("hidden",) if self.hidden is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0
                and np.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(
                f"learning_rate must be > 0 and weight_decay >= 0, got {self.learning_rate!r}, "
                f"{self.weight_decay!r}"
            )
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, (int, np.integer)):
            raise ValueError(f"random_state must be an integer, got {self.random_state!r}")

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the descriptor columns, ``("qbar1", …)``."""
        return tuple(f"qbar{l}" for l in self.ls)


def _rows(system: ParticleSystem, recipe: UnsupervisedRecipe, dim: int | None = None) -> np.ndarray:
    """Indices of the particles the recipe describes, after checking the system."""
    if not isinstance(system, ParticleSystem):
        raise ValueError(f"expected a ParticleSystem, got {type(system).__name__}")
    if not np.isfinite(system.positions).all():
        raise ValueError("positions hold NaN or infinite values; all coordinates must be finite")
    if dim is not None and system.dim != dim:
        raise ValueError(f"the model was fitted on {dim}D systems; this system is {system.dim}D")
    if recipe.species is None:
        return np.arange(system.n_particles)
    if system.species is None:
        raise ValueError(
            f"the recipe describes species {recipe.species!r} but the system has no species; "
            "give each particle its species (or use species=None)"
        )
    rows = np.flatnonzero(system.species == recipe.species)
    if rows.size == 0:
        raise ValueError(
            f"the system has no particles of species {recipe.species!r}; it has "
            f"{', '.join(map(repr, np.unique(system.species)))}"
        )
    return rows


def describe(system: ParticleSystem, recipe: UnsupervisedRecipe, *, dim: int | None = None) -> np.ndarray:
    """The recipe's averaged bond-order parameters q̄_l (module notes, step 1).

    Parameters
    ----------
    system : ParticleSystem
        Positions, with species when the recipe names one.
    recipe : UnsupervisedRecipe
        Degrees, neighbour definition and species.
    dim : int, optional
        Required spatial dimension (that of a fitted model); None accepts 2D and 3D.

    Returns
    -------
    ndarray, shape (N, len(recipe.ls)), float64
        Dimensionless q̄_l of each particle; NaN rows for particles of other species.

    Raises
    ------
    ValueError
        Not a ParticleSystem, NaN positions, the wrong dimension, no species (or none of the
        recipe's), a cutoff beyond half the box, or a described particle without neighbours.
    """
    rows = _rows(system, recipe, dim)
    out = np.full((system.n_particles, len(recipe.ls)), np.nan)
    out[rows] = _qbar(system, recipe, rows)
    return out


def _qbar(system: ParticleSystem, recipe: UnsupervisedRecipe, rows: np.ndarray) -> np.ndarray:
    """Averaged bond-order parameters of the particles ``rows``, shape (M, len(ls)),
    dimensionless (neighbours of every particle count)."""
    nb = recipe.neighbors
    if isinstance(nb, (float, np.floating)):
        nlist = ball_pairs(system, float(nb))  # ValueError for a cutoff beyond half the box
        nlist.filter(np.asarray(nlist.distances, dtype=float) * system.freud_scale < nb)
        order = freud.order.Steinhardt(list(recipe.ls), average=True)
        order.compute(system.freud_system(), neighbors=nlist)
        values = np.asarray(order.particle_order, dtype=float).reshape(system.n_particles, -1)
    else:
        values = steinhardt(system, recipe.ls, neighbors=nb, average=True)
    values = values[rows]
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} particle(s) (first: index {int(rows[bad][0])}) have no "
            f"neighbours with neighbors={nb!r}; use a larger cutoff or another definition"
        )
    return values


def _looseness(system: ParticleSystem, rows: np.ndarray) -> np.ndarray:
    """ln(V_i / V_med) of the given particles, V the Voronoi volume (module notes), shape (M,)."""
    voronoi = freud.locality.Voronoi()
    voronoi.compute(system.freud_system())
    volume = np.asarray(voronoi.volumes, dtype=float)
    groups = np.zeros(system.n_particles, dtype=int) if system.species is None else \
        np.unique(system.species, return_inverse=True)[1]
    median = np.array([np.median(volume[groups == g]) for g in range(groups.max() + 1)])
    return np.log(volume / median[groups])[rows]


@dataclass(frozen=True, eq=False)
class UnsupervisedOrder:
    """A fitted unsupervised order parameter (module notes); made by :func:`fit_unsupervised`.

    Attributes
    ----------
    recipe : UnsupervisedRecipe
    dim : int
        Spatial dimension of the training systems (2 or 3).
    autoencoder : DescriptorAutoencoder
        The fitted encoder and its two-component mixture (``autoencoder.gmm_``).
    mobile_cluster : int
        Mixture component whose probability :meth:`probability` returns (0 or 1).
    cluster_weights : ndarray, shape (2,)
        Fraction of training particles in each cluster (mean membership probability).
    cluster_looseness : ndarray, shape (2,)
        Mean ln(V_i / V_med) of each cluster's members (dimensionless; > 0: looser).
    cluster_order : ndarray, shape (2,)
        Mean q̄ (over l and members) of each cluster (dimensionless).
    input_probability_correlation : ndarray, shape (len(ls),)
        Pearson correlation of each q̄_l with the mobile-cluster probability over the training
        particles: which inputs drive the order parameter, and with which sign.
    n_train : int
        Training particles.
    fit_seconds : float
        Wall time of the fit (descriptors included), seconds.
    """

    recipe: UnsupervisedRecipe
    dim: int
    autoencoder: DescriptorAutoencoder = field(repr=False)
    mobile_cluster: int
    cluster_weights: np.ndarray
    cluster_looseness: np.ndarray
    cluster_order: np.ndarray
    input_probability_correlation: np.ndarray
    n_train: int
    fit_seconds: float

    @property
    def input_code_correlation(self) -> np.ndarray:
        """Pearson correlation of each standardised q̄_l with each code dimension, shape
        (len(ls), n_code), over the training particles."""
        return self.autoencoder.input_code_correlation_

    @property
    def fve(self) -> float:
        """Fraction of the standardised input variance the autoencoder reconstructs."""
        return float(self.autoencoder.fve_)

    def descriptors(self, system: ParticleSystem) -> np.ndarray:
        """q̄_l of each particle, shape (N, len(ls)), dimensionless; NaN rows for particles of
        other species. Raises ValueError for a system the model cannot describe."""
        return describe(system, self.recipe, dim=self.dim)

    def code(self, system: ParticleSystem) -> np.ndarray:
        """Autoencoder code of each particle, shape (N, n_code); NaN rows for other species."""
        rows = _rows(system, self.recipe, self.dim)
        out = np.full((system.n_particles, self.recipe.n_code), np.nan)
        out[rows] = self.autoencoder.encode(_qbar(system, self.recipe, rows))
        return out

    def probability(self, system: ParticleSystem) -> np.ndarray:
        """Membership probability of the mobile cluster, shape (N,), in [0, 1].

        Parameters
        ----------
        system : ParticleSystem
            Positions (and species, when the recipe names one) in the dimension of the fit.

        Returns
        -------
        ndarray, shape (N,), float64
            P(i) of the module notes; NaN for particles of other species.

        Raises
        ------
        ValueError
            Not a ParticleSystem, NaN positions, a dimension other than the fit's, no species
            (or none of the recipe's species), or a particle without neighbours.
        """
        rows = _rows(system, self.recipe, self.dim)
        out = np.full(system.n_particles, np.nan)
        proba = self.autoencoder.predict_proba(_qbar(system, self.recipe, rows))
        out[rows] = proba[:, self.mobile_cluster]
        return out


def fit_unsupervised(
    systems: ParticleSystem | Sequence[ParticleSystem],
    recipe: UnsupervisedRecipe | None = None,
) -> UnsupervisedOrder:
    """Fit the autoencoder and the two-cluster mixture on one or more configurations.

    Parameters
    ----------
    systems : ParticleSystem or sequence of ParticleSystem
        Training configurations, all 2D or all 3D; their (selected) particles are pooled.
    recipe : UnsupervisedRecipe, optional
        Settings; default :class:`UnsupervisedRecipe()`.

    Returns
    -------
    UnsupervisedOrder

    Raises
    ------
    ValueError
        No systems, mixed dimensions, a system that is not a ParticleSystem, lacks the
        recipe's species or has particles without neighbours, or fewer than 2 training
        particles.
    """
    start = time.perf_counter()
    recipe = UnsupervisedRecipe() if recipe is None else recipe
    if not isinstance(recipe, UnsupervisedRecipe):
        raise ValueError(f"recipe must be an UnsupervisedRecipe, got {type(recipe).__name__}")
    batch = [systems] if isinstance(systems, ParticleSystem) else list(systems)
    if not batch:
        raise ValueError("no training systems given; pass at least one ParticleSystem")
    rows = [_rows(s, recipe) for s in batch]
    dims = {s.dim for s in batch}
    if len(dims) > 1:
        raise ValueError(f"training systems mix dimensions {sorted(dims)}; all must be 2D or all 3D")
    X = np.vstack([_qbar(s, recipe, r) for s, r in zip(batch, rows)])
    loose = np.concatenate([_looseness(s, r) for s, r in zip(batch, rows)])
    if len(X) < 2:
        raise ValueError(f"a two-cluster mixture needs at least 2 training particles, got {len(X)}")
    autoencoder = DescriptorAutoencoder(
        recipe.n_code, hidden=recipe.hidden, epochs=recipe.epochs, batch_size=recipe.batch_size,
        learning_rate=recipe.learning_rate, weight_decay=recipe.weight_decay, n_components=2,
        random_state=recipe.random_state,
    ).fit(X)
    proba = autoencoder.probabilities_
    total = proba.sum(axis=0)
    looseness = (proba.T @ loose) / total
    order = (proba.T @ X.mean(axis=1)) / total
    mobile = int(np.argmax(looseness)) if recipe.mobile == "looser" else int(np.argmin(order))
    return UnsupervisedOrder(
        recipe=recipe, dim=dims.pop(), autoencoder=autoencoder, mobile_cluster=mobile,
        cluster_weights=_readonly(total / len(X)), cluster_looseness=_readonly(looseness),
        cluster_order=_readonly(order),
        input_probability_correlation=_readonly(_pearson_columns(X, proba[:, mobile])),
        n_train=len(X), fit_seconds=time.perf_counter() - start,
    )


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.setflags(write=False)
    return array


def _pearson_columns(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``X`` (N, F) with ``y`` (N,); 0 where constant."""
    a = X - X.mean(axis=0)
    b = y - y.mean()
    norm = np.linalg.norm(a, axis=0) * np.linalg.norm(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, (a.T @ b) / norm, 0.0)
