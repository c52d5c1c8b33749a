"""Strategies by name: the table campaigns look a configured strategy up in.

Each strategy module is imported when a campaign uses it (torch and DEAP load only then).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from engine.search.protocol import Strategy
from engine.search.spaces import SearchSpace

__all__ = ["STRATEGIES", "strategy_class", "make_strategy"]

#: Strategy name → ``"module:Class"``.
STRATEGIES: Mapping[str, str] = MappingProxyType({
    "random": "engine.search.random_search:RandomSearch",
    "genetic": "engine.search.genetic:GeneticSearch",
    "self-learning": "engine.search.self_learning:SelfLearning",
    "bayesian": "engine.search.bayesian:BayesianOptimization",
    "inverse": "engine.search.inverse_spinodoid:InverseSpinodoid",
})


def strategy_class(name: str) -> type[Strategy]:
    """The class of strategy ``name``; ``ValueError`` naming the known ones."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; allowed: {', '.join(STRATEGIES)}")
    module, cls = STRATEGIES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def make_strategy(
    name: str, space: SearchSpace, seed: int, settings: Mapping[str, Any] | None = None, objective: Any = None
) -> Strategy:
    """Build strategy ``name`` on ``space``; unknown or bad settings are ``ValueError``.

    A strategy whose constructor takes an ``objective`` (e.g. the inverse spinodoid solver,
    which needs the target stiffness) gets the campaign's :class:`engine.campaigns.objectives.Objective`.
    """
    cls = strategy_class(name)
    settings = dict(settings or {})
    parameters = inspect.signature(cls.__init__).parameters
    allowed = [p for p in parameters if p not in ("self", "space", "seed", "objective")]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown} of the {name} strategy; allowed: {', '.join(allowed) or 'none'}")
    if "objective" in parameters:
        settings["objective"] = objective
    return cls(space, seed, **settings)
