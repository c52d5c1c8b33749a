"""Self-learning loop (after Gu, Chen, Richmond & Buehler 2018, Materials Horizons 5, 939).

Gu et al. design hierarchical composites with a surrogate that is retrained on every label it
has seen and screens many random designs each round; the designs it ranks highest are labelled
by the solver and join the training set. Each round about 10 % of the screened designs are the
previous rounds' top designs plus noise (mutations), so that good patterns are refined while the
rest of the screen keeps exploring; the set of top designs is re-chosen every round, so inferior
designs are phased out as better ones are found.

:class:`SelfLearning` implements one round per batch:

1. fit the surrogate on all successful labels told so far: a good/bad classifier (good = above
   the ``good_quantile`` of the labels, Gu et al.'s top-half split by default) or a regressor,
   linear or CNN (:mod:`engine.surrogates.grid`);
2. screen ``screen`` designs: ``1 − mutant_fraction`` of them random, ``mutant_fraction`` the
   ``elite`` best labelled designs with each cell changed with probability ``noise``;
3. label the ``n`` designs with the highest score (P(good) or the predicted value) that were
   never proposed before.

The first batches are random (the initial training set; see
:class:`~engine.search.genetic.SurrogateStrategy`). Pareto objectives are reduced to one number
per labelled design by :func:`~engine.search.protocol.pareto_fitness` (NSGA-II rank and
crowding), which the surrogate learns.

What is ours, not the paper's: the screen and elite sizes scale with the campaign's batch
(Gu et al. screened 10⁶ designs and kept the top 100 per round with a training set of 10⁵
labels), and the mutants are drawn from the best labels so far rather than from one round.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from designs.base import Design
from engine.search.genetic import MODELS, SurrogateStrategy, fraction_setting, integer_setting, random_grids
from engine.search.genetic_operators import flip_cells
from engine.search.protocol import pareto_fitness
from engine.search.spaces import SearchSpace

__all__ = ["SelfLearning"]


class SelfLearning(SurrogateStrategy):
    """Self-learning surrogate screen (see the module docstring).

    Parameters
    ----------
    space : HierarchicalSpace or GridSpace
    seed : int
    screen : int
        Designs ranked by the surrogate per round.
    mutant_fraction : float
        Share of the screen made of mutated top designs (Gu et al. 2018: 10 %).
    elite : int or None
        Number of best labelled designs that are mutated; ``None``: the batch size of the round.
    noise : float
        Per-cell probability that a mutant's block changes (to another code, uniformly).
    good_quantile : float
        Classifiers only: a label is good above this quantile of all labels (0.5: top half).
    min_train, model, targets, members, symmetry, min_distance
        See :class:`~engine.search.genetic.SurrogateStrategy`; the default model is the CNN
        good/bad classifier.

    Raises
    ------
    ValueError
        A setting out of range, or mutants asked for without noise (a mutant would be its
        parent); the message names what is allowed.
    """

    name: ClassVar[str] = "self-learning"

    def __init__(
        self, space: SearchSpace, seed: int, screen: int = 20_000, mutant_fraction: float = 0.1,
        elite: int | None = None, noise: float = 0.1, good_quantile: float = 0.5, min_train: int = 10,
        model: str = "cnn-classifier", targets: str = "rank", members: int = 1, symmetry: str | None = None,
        min_distance: int = 1,
    ) -> None:
        super().__init__(space, seed, min_train=min_train, model=model, members=members, symmetry=symmetry,
                         min_distance=min_distance, targets=targets)
        self.screen = integer_setting("screen", screen, 10, 10_000_000)
        self.mutant_fraction = fraction_setting("mutant_fraction", mutant_fraction)
        self.elite = None if elite is None else integer_setting("elite", elite, 1)
        self.noise = fraction_setting("noise", noise)
        if self.noise == 0 and self.mutant_fraction > 0:
            raise ValueError("noise must be > 0 when mutant_fraction > 0: a mutant without noise is its parent")
        self.good_quantile = fraction_setting("good_quantile", good_quantile)
        if not 0.0 < self.good_quantile < 1.0:
            raise ValueError(f"good_quantile must lie strictly between 0 and 1, got {good_quantile!r}")

    def settings(self) -> dict[str, Any]:
        return {**self._common_settings(), "screen": self.screen, "mutant_fraction": self.mutant_fraction,
                "elite": self.elite, "noise": self.noise, "good_quantile": self.good_quantile}

    def mutants(self, grids: np.ndarray, fitness: np.ndarray, count: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` mutants of the ``elite`` (default ``n``) fittest labelled ``grids``, and their parents' indices.

        Each mutant is a parent drawn uniformly from the elite with every cell changed with
        probability ``noise`` (:func:`~engine.search.genetic_operators.flip_cells`); designs
        outside the elite are never parents (phased out).
        """
        elite = np.argsort(-np.asarray(fitness), kind="stable")[:self.elite or n]
        parents = elite[self.rng.integers(0, len(elite), int(count))]
        return flip_cells(grids[parents], self.noise, self.n_types, self.rng), parents

    def candidates(self, grids: np.ndarray, fitness: np.ndarray, n: int) -> np.ndarray:
        """The round's screen: random grids, then mutants of the elite (first copies only, allowed by the space)."""
        n_mutants = int(round(self.mutant_fraction * self.screen))
        pool = np.concatenate([random_grids(self.space, self.screen - n_mutants, self.rng),
                               self.mutants(grids, fitness, n_mutants, n)[0]])
        _, first = np.unique(pool.reshape(len(pool), -1), axis=0, return_index=True)
        pool = pool[np.sort(first)]
        return pool[self._allowed(pool)]

    def _propose(self, grids: np.ndarray, values: np.ndarray, n: int) -> list[Design]:
        fitness = pareto_fitness(values)
        if MODELS[self.model][1] == "classifier":
            targets = (fitness > np.quantile(fitness, self.good_quantile)).astype(int)
            if targets.min() == targets.max():  # ties: no good/bad split yet
                self.history.append({"kind": "random", "n": n, "reason": "labels tie at the good/bad threshold"})
                return []
        else:
            targets = fitness[:, None]  # ranked by the base class unless targets="value"
        model = self._surrogate(grids, targets)
        pool = self.candidates(grids, fitness, n)
        scores = model.rank_scores(pool)
        order = np.argsort(-scores, kind="stable")
        designs = self._pick(pool, order, n, scores)
        self.history.append({"kind": "model", "n": n, "labels": len(grids), "screened": len(pool),
                             "best_score": float(scores[order[0]])})
        return designs
