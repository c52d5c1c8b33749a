"""Genetic search on a CNN surrogate (after Yu, Qin & Buehler 2019), wrapped around DEAP.

Yu, Qin & Buehler (2019, "Artificial intelligence design algorithm for nanocomposites optimized
for shear crack resistance", Nano Futures 3, 035001) rank soft/stiff grids with a CNN inside a
genetic algorithm whose parents are chosen by fitness and diversity, for about 100 generations.
:class:`GeneticSearch` closes that loop with the solver: every batch

1. trains the surrogate (a :class:`~engine.surrogates.grid.GridCNNRegressor`, or a deep ensemble
   of them) on all labels told so far;
2. runs the GA on the surrogate for ``generations`` generations: elitism (the ``elites`` best
   pass unchanged), parents by tournament on shared fitness (fitness sharing over Hamming
   distance, Goldberg & Richardson 1987: fitness *and* diversity), 2D patch crossover, per-cell
   and block mutations (:mod:`engine.search.genetic_operators`);
3. proposes the ``n`` best distinct unlabelled designs the GA met, by predicted fitness (plus
   ``kappa`` times the ensemble spread when ``members > 1``), at least ``min_distance`` cells apart.

The first batches are random (the initial training set, ``min_train`` successful labels), drawn
exactly as :class:`~engine.search.random_search.RandomSearch` with the same seed draws them, so a
comparison with random search shares (and a store reuses) the initial labels.

DEAP is used as a framework: the individual and fitness types are created once at import, the
operators are registered in a ``base.Toolbox``, and ``toolbox.map`` is replaced by a function
that scores a whole population in one batched surrogate call. The operators are ours, seeded by
the strategy's generator (DEAP's own operators and ``algorithms.varAnd`` draw from the global
:mod:`random` module, which a replayed campaign cannot reproduce). Pareto objectives (two
values) are scored by :func:`~engine.search.protocol.pareto_fitness` on the surrogate's two
predicted values over the population (NSGA-II rank and crowding).

:class:`SurrogateStrategy` holds what this loop shares with the self-learning loop
(:mod:`engine.search.self_learning`): labels told so far, the random start, vectorised random
grids, the surrogate factory and the pick of distinct unlabelled designs.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from deap import base, creator, tools
from scipy.stats import rankdata

from designs.base import Design
from designs.hierarchical import BUILDING_BLOCKS
from engine.search.genetic_operators import block_mutation, flip_cells, hamming_matrix, patch_crossover
from engine.search.genetic_operators import shared_fitness, tournament
from engine.search.protocol import Strategy, pareto_fitness
from engine.search.random_search import RandomSearch
from engine.search.spaces import GridSpace, SearchSpace
from fem.spmm import torch_threads

__all__ = ["GeneticSearch", "MODELS", "SurrogateStrategy", "fraction_setting", "integer_setting", "number_setting",
           "random_grids"]

# DEAP types, created once at import (creator.create warns when a name is created twice).
if not hasattr(creator, "MatloopGridFitness"):
    creator.create("MatloopGridFitness", base.Fitness, weights=(1.0,))
if not hasattr(creator, "MatloopGrid"):
    creator.create("MatloopGrid", np.ndarray, fitness=creator.MatloopGridFitness)

#: Surrogate models of the loops: (architecture, task).
MODELS = {"cnn": ("cnn", "regressor"), "linear": ("linear", "regressor"),
          "cnn-classifier": ("cnn", "classifier"), "linear-classifier": ("linear", "classifier")}


def integer_setting(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``low..high``; ``ValueError`` naming the setting and the range otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer)) or not math.isfinite(value) \
            or int(value) != value or value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    return int(value)


def fraction_setting(name: str, value: Any) -> float:
    """``value`` as a probability in [0, 1]; ``ValueError`` naming the setting otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def number_setting(name: str, value: Any) -> float:
    """``value`` as a finite number >= 0; ``ValueError`` naming the setting otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0.0 <= float(value) < np.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def random_grids(space: SearchSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random grids of a block space, drawn as its ``sample`` draws them, vectorised.

    Checkerboards: soft fraction uniform in the space's range, then that share of cells (rounded)
    soft, placed uniformly; hierarchical designs: every coarse block uniform among the three.

    Returns
    -------
    ndarray of int, shape (n, rows, columns)
    """
    shape = (int(n), space.rows, space.columns)
    if not isinstance(space, GridSpace):
        return rng.integers(0, len(BUILDING_BLOCKS), size=shape)
    cells = space.rows * space.columns
    soft = np.rint(rng.uniform(*space.soft_fraction, size=int(n)) * cells)
    order = np.argsort(np.argsort(rng.random((int(n), cells)), axis=1), axis=1)  # a random permutation per row
    return np.where(order < soft[:, None], 0, 1).reshape(shape)


class SurrogateStrategy(Strategy):
    """Base of the surrogate loops on block grids: labels told, random start, model, distinct picks.

    Parameters
    ----------
    space : GridSpace or HierarchicalSpace
        Grids the strategy works on: soft/stiff cells, or coarse building-block codes.
    seed : int
    min_train : int
        Successful labels needed before the surrogate proposes; until then (and while every label
        is equal) batches are random.
    model : {"cnn", "linear", "cnn-classifier", "linear-classifier"}
        Surrogate: grid CNN or linear model (:mod:`engine.surrogates.grid`), regressor of the
        objective values or good/bad classifier.
    targets : {"rank", "value"}
        What a regressor learns: the ranks of the objective values scaled to (0, 1] (robust to
        skewed labels; the search needs the order only) or the values themselves.
    members : int
        Deep-ensemble members (>= 2 gives a spread for exploration).
    symmetry : {None, "mirror_rows"}
        Train also on mirror images about the crack plane: only where the labels are mirror
        invariant (checkerboards in mode I; not mode II, not hierarchical coarse grids, whose
        building blocks do not mirror into each other).
    min_distance : int
        Designs of one batch differ in at least this many cells (1: merely distinct).
    """

    spaces: ClassVar[tuple[str, ...]] = ("checkerboard", "hierarchical")

    def __init__(self, space: SearchSpace, seed: int, *, min_train: int, model: str, members: int,
                 symmetry: str | None, min_distance: int, targets: str) -> None:
        super().__init__(space, seed)
        self.min_train = integer_setting("min_train", min_train, 2)
        if model not in MODELS:
            raise ValueError(f"unknown surrogate model {model!r}; allowed: {', '.join(MODELS)}")
        self.model = model
        if targets not in ("rank", "value"):
            raise ValueError(f"targets must be 'rank' or 'value', got {targets!r}")
        self.targets = targets
        self.predictions_are_values = MODELS[model][1] == "regressor" and targets == "value"
        self.members = integer_setting("members", members, 1, 32)
        if symmetry not in (None, "mirror_rows"):
            raise ValueError(f"symmetry must be None or 'mirror_rows', got {symmetry!r}")
        if symmetry is not None and space.name == "hierarchical":
            raise ValueError("symmetry 'mirror_rows' holds for checkerboards only: a mirrored coarse grid of building "
                             "blocks is not the mirror image of the design (its sub-patterns do not mirror)")
        self.symmetry = symmetry
        self.n_types = 2 if space.name == "checkerboard" else len(BUILDING_BLOCKS)
        self.cells = space.rows * space.columns
        self.min_distance = integer_setting("min_distance", min_distance, 1, self.cells)
        self._random = RandomSearch(space, seed)  # the random baseline's draws: shared initial labels
        self._random.seen = self.seen
        self._grids: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        #: One record per ask: ``{"kind": "random" | "model", "n": ..., ...}`` (diagnostics).
        self.history: list[dict[str, Any]] = []
        self._cheap: tuple[np.ndarray, np.ndarray] | None = None  # pre-training grids and rank targets
        self._pretrained: Any = None

    # ------------------------------------------------------------------ protocol
    def tell(self, designs: Sequence[Design], values: np.ndarray) -> None:
        values = np.asarray(values, dtype=float)
        values = values[:, None] if values.ndim == 1 else values
        if len(designs) != len(values):
            raise ValueError(f"told {len(designs)} designs but {len(values)} rows of values")
        for design, row in zip(designs, values):
            self.space.check(design)
            self._grids.append(np.asarray(self.space.to_grid(design), dtype=np.int64))
            self._values.append(row)
            self.seen.add(design.content_hash())

    def ask(self, n: int) -> list[Design]:
        grids, values = self.training_data()
        if len(grids) < self.min_train or not (np.ptp(values, axis=0) > 0).any():
            self.history.append({"kind": "random", "n": int(n)})
            return self._random.ask(n)
        with torch_threads(1):  # one thread: the same floating-point sums on replay
            designs = self._propose(grids, values, int(n))
        if len(designs) < n:
            designs += self._random.ask(n - len(designs))
        return designs

    @abstractmethod
    def _propose(self, grids: np.ndarray, values: np.ndarray, n: int) -> list[Design]:
        """Up to ``n`` new designs from the labelled ``grids`` (m, rows, columns) and ``values`` (m, k)."""

    # ------------------------------------------------------------------ multi-fidelity
    def check_pretraining(self) -> None:
        """``ValueError`` unless the surrogate can use cheap labels (the regressors: they predict values)."""
        if MODELS[self.model][1] != "regressor":
            raise ValueError(f"pre-training adds a cheap model's predictions to a regressor; the {self.model!r} model "
                             "classifies: use model 'cnn' or 'linear'")

    def pretrain(self, designs: Sequence[Design], values: np.ndarray) -> None:
        """Cheap labels of other designs that every later surrogate builds on (multi-fidelity).

        A CNN regressor learns the ranks of every column of ``values`` from ``designs``; each
        later surrogate is then a
        :class:`~engine.surrogates.multifidelity.MultiFidelityRegressor`: a least-squares
        combination of those predictions fitted on the labels told, plus the strategy's model
        fitted on what it leaves (Kennedy & O'Hagan 2000). Call before the first ``ask``.

        Parameters
        ----------
        designs : sequence of Design, length n
            Designs of the space (not marked proposed: the strategy may propose them later).
        values : ndarray, shape (n, c)
            Cheap metrics, any units and signs (e.g. the fast fracture fidelity's stiffness, G/σ²
            and |K|/σ). Rows that are all NaN (failed labels) are dropped, then columns with a
            NaN or one value only.

        Raises
        ------
        ValueError
            The model is a classifier.
        """
        self.check_pretraining()
        values = np.asarray(values, dtype=float).reshape(len(designs), -1)
        rows = ~np.isnan(values).all(axis=1)
        kept = values[rows]
        columns = np.isfinite(kept).all(axis=0) & (np.ptp(np.nan_to_num(kept), axis=0) > 0 if len(kept) else False)
        grids = [np.asarray(self.space.to_grid(d), dtype=np.int64) for d, ok in zip(designs, rows) if ok]
        self.history.append({"kind": "pretrain", "designs": len(designs), "rows": len(grids),
                             "columns": int(columns.sum())})
        if len(grids) >= self.min_train and columns.any():
            self._cheap = np.stack(grids), rankdata(kept[:, columns], axis=0) / len(grids)

    def _pretrained_model(self) -> Any:
        """The model of the pre-training labels (fitted at its first use, seeded by ``seed``); None without."""
        if self._cheap is None or self._pretrained is not None:
            return self._pretrained
        from engine.surrogates.grid import GridCNNRegressor

        seed = int(np.random.SeedSequence([self.seed, 1]).generate_state(1)[0] % (2**31 - 1))  # leaves rng alone
        model = GridCNNRegressor(n_types=self.n_types, symmetry=self.symmetry, device="cpu", random_state=seed)
        self._pretrained = model.fit(*self._cheap)
        return self._pretrained

    # ------------------------------------------------------------------ helpers
    def training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Grids (m, rows, columns) and objective values (m, k) of the successful labels told so far."""
        if not self._grids:
            return np.zeros((0, self.space.rows, self.space.columns), dtype=np.int64), np.zeros((0, 1))
        grids, values = np.stack(self._grids), np.stack(self._values)
        ok = np.isfinite(values).all(axis=1)
        return grids[ok], values[ok]

    def _seed(self) -> int:
        return int(self.rng.integers(0, 2**31 - 1))

    def _surrogate(self, grids: np.ndarray, targets: np.ndarray) -> Any:
        """A fitted surrogate (regressor of ``targets`` (m, k), or classifier of labels (m,)), seeded from ``rng``.

        With ``targets="rank"`` a regressor learns each column's ranks scaled to (0, 1] instead of
        the values: the search needs the order only, and skewed labels (a few tough designs among
        many brittle ones) no longer dominate the squared error.
        """
        from engine.surrogates.ensemble import SurrogateEnsemble
        from engine.surrogates.grid import GridCNNClassifier, GridCNNRegressor, GridLinearClassifier
        from engine.surrogates.grid import GridLinearRegressor

        classes = {("cnn", "regressor"): GridCNNRegressor, ("linear", "regressor"): GridLinearRegressor,
                   ("cnn", "classifier"): GridCNNClassifier, ("linear", "classifier"): GridLinearClassifier}
        if MODELS[self.model][1] == "regressor" and self.targets == "rank":
            targets = rankdata(targets, axis=0) / len(targets)
        seed = self._seed()
        estimator = classes[MODELS[self.model]](n_types=self.n_types, symmetry=self.symmetry, device="cpu",
                                                random_state=seed)
        if self.members > 1:
            estimator = SurrogateEnsemble(estimator, n_members=self.members, random_state=seed)
        cheap = self._pretrained_model()
        if cheap is not None:
            from engine.surrogates.multifidelity import MultiFidelityRegressor

            estimator = MultiFidelityRegressor(cheap, estimator)
        return estimator.fit(grids, targets)

    def _pick(self, grids: np.ndarray, order: np.ndarray, n: int, scores: np.ndarray) -> list[Design]:
        """The first ``n`` designs of ``grids[order]`` never proposed, ``min_distance`` cells apart.

        Marked proposed, with their surrogate ``scores`` (one per grid) kept in :attr:`predictions`.
        """
        chosen: list[np.ndarray] = []
        out: list[Design] = []
        for i in order:
            grid = grids[i]
            if self.min_distance > 1 and chosen and \
                    (np.count_nonzero(np.stack(chosen) != grid, axis=(1, 2)) < self.min_distance).any():
                continue
            design = self.space.from_grid(grid)
            key = design.content_hash()
            if key in self.seen:
                continue
            self.seen.add(key)
            self.predictions[key] = float(scores[i])
            out.append(design)
            chosen.append(grid)
            if len(out) == n:
                break
        return out

    def _allowed(self, grids: np.ndarray) -> np.ndarray:
        """Grids the space allows (a checkerboard space may bound the soft fraction)."""
        if not isinstance(self.space, GridSpace):
            return np.ones(len(grids), dtype=bool)
        lo, hi = self.space.soft_fraction
        soft = np.count_nonzero(grids.reshape(len(grids), -1) == 0, axis=1)
        return (soft >= np.floor(lo * self.cells + 1e-9)) & (soft <= np.ceil(hi * self.cells - 1e-9))

    def _common_settings(self) -> dict[str, Any]:
        return {"min_train": self.min_train, "model": self.model, "targets": self.targets, "members": self.members,
                "symmetry": self.symmetry, "min_distance": self.min_distance}


class GeneticSearch(SurrogateStrategy):
    """Surrogate-assisted genetic algorithm on block grids (see the module docstring).

    Parameters
    ----------
    space : GridSpace or HierarchicalSpace
    seed : int
    population : int
        Individuals per generation (>= 4).
    generations : int
        Generations per batch on the surrogate (Yu et al. 2019: about 100).
    elites : int or None
        Best individuals copied unchanged into the next generation (< population); ``None``: 4, or
        population − 1 where the population is smaller than 5.
    tournament_size : int
        Entrants per tournament (>= 1; 1 is uniform selection).
    niche_radius : float or None
        Fitness-sharing radius in cells; ``None``: an eighth of the cells (8 on 8×8, 2 on 4×4);
        0 selects on fitness alone.
    crossover_rate : float
        Probability that a pair of parents swaps a patch.
    flip_rate : float or None
        Per-cell mutation probability; ``None``: one cell per grid on average (1 / cells).
    block_rate : float
        Probability that a child also gets a block mutation.
    block_size : int
        Largest side of a block mutation (cells).
    seed_fraction : float
        Share of the first generation taken from the best labelled designs (the rest random).
    kappa : float
        Exploration: fitness is predicted mean + ``kappa`` × ensemble spread (needs ``members >= 2``).
    trust_radius : float or None
        Trust region in cells: designs farther than this from each of the ``trust_anchors`` best
        labelled designs get no fitness (the surrogate is trusted near its data only; cf. the
        trust regions of Eriksson et al. 2019, TuRBO). ``None``: an eighth of the cells (8 on
        8×8, 2 on 4×4); 0 switches the region off.
    trust_anchors : int
        Best labelled designs the trust region is centred on.
    min_train, model, targets, members, symmetry, min_distance
        See :class:`SurrogateStrategy` (``model`` must be a regressor here). Four members by
        default: on fast-fidelity G/σ² of 8×8 checkerboards (60 calls, 6 seeds) the GA on one
        CNN exploited its extrapolation errors and did no better than random search (median
        best 2.2e-4 vs 2.7e-4 mm/MPa); on the mean of 4 it reached 1.1e-4.

    Raises
    ------
    ValueError
        A setting out of range; the message names what is allowed.
    """

    name: ClassVar[str] = "genetic"

    def __init__(
        self, space: SearchSpace, seed: int, population: int = 200, generations: int = 100, elites: int | None = None,
        tournament_size: int = 3, niche_radius: float | None = None, crossover_rate: float = 0.9,
        flip_rate: float | None = None, block_rate: float = 0.3, block_size: int = 3, seed_fraction: float = 0.25,
        kappa: float = 0.0, trust_radius: float | None = None, trust_anchors: int = 8, min_train: int = 10,
        model: str = "cnn", targets: str = "rank", members: int = 4, symmetry: str | None = None,
        min_distance: int = 2,
    ) -> None:
        super().__init__(space, seed, min_train=min_train, model=model, members=members, symmetry=symmetry,
                         min_distance=min_distance, targets=targets)
        if MODELS[self.model][1] != "regressor":
            raise ValueError(f"the genetic strategy ranks by predicted values: model must be 'cnn' or 'linear', got "
                             f"{model!r}")
        self.population = integer_setting("population", population, 4, 100_000)
        self.generations = integer_setting("generations", generations, 1, 10_000)
        self.elites = min(4, self.population - 1) if elites is None else \
            integer_setting("elites", elites, 0, self.population - 1)
        self.tournament_size = integer_setting("tournament_size", tournament_size, 1, self.population)
        self.niche_radius = max(1.0, self.cells / 8) if niche_radius is None else number_setting("niche_radius", niche_radius)
        self.crossover_rate = fraction_setting("crossover_rate", crossover_rate)
        self.flip_rate = 1.0 / self.cells if flip_rate is None else fraction_setting("flip_rate", flip_rate)
        self.block_rate = fraction_setting("block_rate", block_rate)
        self.block_size = integer_setting("block_size", block_size, 1)
        self.seed_fraction = fraction_setting("seed_fraction", seed_fraction)
        self.kappa = number_setting("kappa", kappa)
        if self.kappa > 0 and self.members < 2:
            raise ValueError("kappa > 0 explores by ensemble spread: it needs members >= 2")
        self.trust_radius = (max(1.0, self.cells / 8) if trust_radius is None
                             else number_setting("trust_radius", trust_radius))
        self.trust_anchors = integer_setting("trust_anchors", trust_anchors, 1)
        self._anchors: np.ndarray | None = None  # flattened best labelled grids of the current ask

    def settings(self) -> dict[str, Any]:
        return {**self._common_settings(), "population": self.population, "generations": self.generations,
                "elites": self.elites, "tournament_size": self.tournament_size, "niche_radius": self.niche_radius,
                "crossover_rate": self.crossover_rate, "flip_rate": self.flip_rate, "block_rate": self.block_rate,
                "block_size": self.block_size, "seed_fraction": self.seed_fraction, "kappa": self.kappa,
                "trust_radius": self.trust_radius, "trust_anchors": self.trust_anchors}

    # ------------------------------------------------------------------ the DEAP toolbox
    def toolbox(self, predict: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> base.Toolbox:
        """A DEAP toolbox of our seeded operators around ``predict`` (grids → mean, spread, each (n, k)).

        ``toolbox.map(toolbox.evaluate, individuals)`` scores all individuals in one batched call
        (``evaluate`` takes the stacked grids); predictions are cached by grid in ``archive``.
        """
        toolbox = base.Toolbox()
        archive: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        toolbox.archive = archive

        def evaluate(grids: np.ndarray) -> np.ndarray:
            keys = [g.tobytes() for g in grids]
            new = {k: i for i, k in enumerate(keys) if k not in archive}
            if new:
                mean, spread = predict(grids[list(new.values())])
                for row, key in enumerate(new):
                    archive[key] = (mean[row], spread[row])
            mean = np.array([archive[k][0] for k in keys])
            spread = np.array([archive[k][1] for k in keys])
            return self._fitness(mean, spread, grids)

        def batched_map(function: Callable[[np.ndarray], np.ndarray], individuals: Sequence[np.ndarray]) -> list:
            individuals = list(individuals)
            return [(float(f),) for f in function(np.stack([np.asarray(i) for i in individuals]))]

        toolbox.register("evaluate", evaluate)
        toolbox.register("map", batched_map)
        toolbox.register("individual", creator.MatloopGrid)
        toolbox.register("mate", self._mate)
        toolbox.register("mutate", self._mutate)
        toolbox.register("select", self._select)
        return toolbox

    def _fitness(self, mean: np.ndarray, spread: np.ndarray, grids: np.ndarray) -> np.ndarray:
        """Scalar fitness to maximise: optimistic value (k = 1) or NSGA-II rank + crowding (k = 2).

        −inf outside the space's bounds and outside the trust region.
        """
        allowed = self._allowed(grids)
        if self.trust_radius > 0 and self._anchors is not None:
            flat = grids.reshape(len(grids), -1)
            nearest = (flat[:, None, :] != self._anchors[None, :, :]).sum(axis=2).min(axis=1)
            allowed &= nearest <= self.trust_radius
        fitness = pareto_fitness(np.where(allowed[:, None], mean + self.kappa * spread, np.nan))
        return np.where(allowed, fitness, -np.inf)

    def _mate(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a[...], b[...] = patch_crossover(a, b, self.rng)
        return a, b

    def _mutate(self, individual: np.ndarray) -> tuple[np.ndarray]:
        individual[...] = flip_cells(individual, self.flip_rate, self.n_types, self.rng)
        if self.rng.random() < self.block_rate:
            individual[...] = block_mutation(individual, self.block_size, self.n_types, self.rng)
        return (individual,)

    def _select(self, individuals: Sequence[np.ndarray], k: int) -> list[np.ndarray]:
        fitness = np.array([ind.fitness.values[0] for ind in individuals])
        scores = shared_fitness(fitness, np.stack([np.asarray(i) for i in individuals]), self.niche_radius)
        return [individuals[i] for i in tournament(scores, k, self.tournament_size, self.rng)]

    def _vary(self, toolbox: base.Toolbox, parents: Sequence[np.ndarray]) -> list[np.ndarray]:
        """``algorithms.varAnd`` with our generator: clone, cross pairs with ``crossover_rate``, mutate every child."""
        offspring = [toolbox.clone(p) for p in parents]
        for i in range(1, len(offspring), 2):
            if self.rng.random() < self.crossover_rate:
                offspring[i - 1], offspring[i] = toolbox.mate(offspring[i - 1], offspring[i])
        for i in range(len(offspring)):
            offspring[i], = toolbox.mutate(offspring[i])
            del offspring[i].fitness.values
        return offspring

    def evolve(self, toolbox: base.Toolbox, population: list[np.ndarray]) -> tuple[list[np.ndarray], tools.Logbook]:
        """Run ``generations`` generations; every generation is scored in one batched ``toolbox.map`` call.

        Returns
        -------
        (list, deap.tools.Logbook)
            The last population and per-generation records (``gen``, ``best``, ``median`` fitness,
            ``diversity``: mean pairwise Hamming distance in cells).
        """
        logbook = tools.Logbook()
        for generation in range(self.generations + 1):
            if generation:
                elites = [toolbox.clone(e) for e in tools.selBest(population, self.elites)]
                population = elites + self._vary(toolbox, toolbox.select(population, self.population - self.elites))
            # every individual is rescored: Pareto fitness is relative to the population
            for individual, fitness in zip(population, toolbox.map(toolbox.evaluate, population)):
                individual.fitness.values = fitness
            fitness = np.array([ind.fitness.values[0] for ind in population])
            grids = np.stack([np.asarray(i) for i in population])
            pairs = max(len(grids) * (len(grids) - 1), 1)
            logbook.record(gen=generation, best=float(fitness.max()), median=float(np.median(fitness)),
                           diversity=float(hamming_matrix(grids).sum() / pairs))
        return population, logbook

    def _predictor(self, grids: np.ndarray, values: np.ndarray) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        model = self._surrogate(grids, values)

        def predict(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            if self.members > 1:
                mean, spread = model.predict(batch, return_std=True)
            else:
                mean = model.predict(batch)
                spread = np.zeros_like(mean)
            return mean.reshape(len(batch), -1), spread.reshape(len(batch), -1)

        return predict

    def _propose(self, grids: np.ndarray, values: np.ndarray, n: int) -> list[Design]:
        toolbox = self.toolbox(self._predictor(grids, values))
        n_seeded = min(int(round(self.seed_fraction * self.population)), len(grids))
        ranked = np.argsort(-pareto_fitness(values), kind="stable")
        self._anchors = grids[ranked[:self.trust_anchors]].reshape(-1, self.cells)
        best = ranked[:n_seeded]
        if self.trust_radius > 0:  # the rest: copies of the anchors with about trust_radius / 2 cells changed
            parents = grids[ranked[self.rng.integers(0, min(self.trust_anchors, len(ranked)), self.population - n_seeded)]]
            rest = flip_cells(parents, min(0.5, self.trust_radius / (2 * self.cells)), self.n_types, self.rng)
        else:
            rest = random_grids(self.space, self.population - n_seeded, self.rng)
        start = np.concatenate([grids[best], rest])
        population = [toolbox.individual(g) for g in start]
        _, logbook = self.evolve(toolbox, population)
        keys = list(toolbox.archive)
        candidates = np.stack([np.frombuffer(k, dtype=np.int64).reshape(self.space.rows, self.space.columns)
                               for k in keys])
        mean = np.stack([toolbox.archive[k][0] for k in keys])
        spread = np.stack([toolbox.archive[k][1] for k in keys])
        fitness = self._fitness(mean, spread, candidates)
        order = np.argsort(-fitness, kind="stable")
        order = order[np.isfinite(fitness[order])]
        designs = self._pick(candidates, order, n, mean[:, 0])
        self.history.append({"kind": "model", "n": n, "labels": len(grids), "scored": len(keys),
                             "best_predicted": float(fitness[order[0]]) if order.size else None,
                             "logbook": list(logbook)})
        return designs
