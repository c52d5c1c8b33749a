"""The strategy protocol: propose designs (ask), learn from their objective values (tell).

A strategy is deterministic given its space, settings, seed and the sequence of ask/tell calls;
a campaign rebuilds it after a restart by replaying its history from the store, so a strategy
must draw all randomness from its own generator and run torch work on one thread (thread
counts change floating-point sums).

Values are objective values to *maximise*, shape ``(n, k)`` (k = 1, or 2 for a Pareto front);
a design whose label failed has a row of NaN.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from designs.base import Design
from engine.search.spaces import SearchSpace

__all__ = ["Strategy", "pareto_fitness"]


class Strategy(ABC):
    """Base of the search strategies.

    Parameters
    ----------
    space : SearchSpace
        What may be proposed.
    seed : int
        Seed of every random choice.
    """

    #: Name used in campaign configurations.
    name: ClassVar[str]
    #: Design spaces the strategy can search.
    spaces: ClassVar[tuple[str, ...]]

    def __init__(self, space: SearchSpace, seed: int) -> None:
        self.check_space(space)
        self.space = space
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.seen: set[str] = set()
        #: Surrogate predictions (first objective value) of the designs proposed, by content hash;
        #: strategies with a surrogate record them in ``ask`` so that campaigns can report how
        #: well the surrogate ranked designs before it learnt their labels.
        self.predictions: dict[str, float] = {}
        #: Whether :attr:`predictions` are in the objective's units (``False`` for scores that only
        #: order designs, such as predicted ranks or class probabilities: no R² then).
        self.predictions_are_values = True
        #: Whether ``tell`` also takes ``outputs=`` (n, m): the quantities the campaign's objective
        #: composes its value of (:meth:`engine.campaigns.objectives.Objective.outputs`).
        self.models_outputs = False

    @classmethod
    def check_space(cls, space: SearchSpace) -> None:
        """``ValueError`` unless the strategy can search ``space`` (by default: its name is in :attr:`spaces`)."""
        if space.name not in cls.spaces:
            raise ValueError(f"the {cls.name} strategy searches {', '.join(cls.spaces)} designs, not {space.name}")

    @abstractmethod
    def ask(self, n: int) -> list[Design]:
        """``n`` designs to label next, none proposed before."""

    @abstractmethod
    def tell(self, designs: Sequence[Design], values: np.ndarray) -> None:
        """Objective values (n, k) of labelled designs (NaN rows: failed labels)."""

    def settings(self) -> dict[str, Any]:
        """JSON description of the strategy's settings (stored with the campaign)."""
        return {}

    def _fresh(self, candidates: Sequence[Design], n: int) -> list[Design]:
        """The first ``n`` candidates not proposed before (and not twice), marked as proposed."""
        out = []
        for design in candidates:
            key = design.content_hash()
            if key not in self.seen:
                self.seen.add(key)
                out.append(design)
                if len(out) == n:
                    break
        return out


def pareto_fitness(values: np.ndarray) -> np.ndarray:
    """Scalar fitness of objective vectors (n, k) to maximise: the value itself for k = 1; for
    k > 1 minus the non-domination rank (Deb et al. 2002, NSGA-II), ties broken by crowding
    distance in (0, 1). NaN rows get −inf.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    ok = np.isfinite(v).all(axis=1)
    fitness = np.full(len(v), -np.inf)
    if v.shape[1] == 1:
        fitness[ok] = v[ok, 0]
        return fitness
    idx = np.flatnonzero(ok)
    rank = np.zeros(len(idx), dtype=int)
    remaining = np.arange(len(idx))
    level = 0
    while remaining.size:
        sub = v[idx[remaining]]
        dominated = ((sub[None, :, :] >= sub[:, None, :]).all(-1) & (sub[None, :, :] > sub[:, None, :]).any(-1)).any(1)
        front = remaining[~dominated]
        rank[front] = level
        remaining = remaining[dominated]
        level += 1
    crowd = np.zeros(len(idx))
    for r in range(level):
        members = np.flatnonzero(rank == r)
        for j in range(v.shape[1]):
            order = members[np.argsort(v[idx[members], j])]
            span = np.ptp(v[idx[members], j]) or 1.0
            crowd[order[[0, -1]]] += 1.0
            crowd[order[1:-1]] += (v[idx[order[2:]], j] - v[idx[order[:-2]], j]) / span
    fitness[idx] = -rank + crowd / (1.0 + crowd.max(initial=0.0)) * 0.999
    return fitness
