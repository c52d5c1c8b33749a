"""A campaign's configuration: what is searched, how, against which labels, for how long.

Everything is checked when the configuration is built (:meth:`CampaignConfig.build`), before
any design is proposed or labelled: an unknown strategy, a budget ≤ 0, a batch larger than the
budget, an objective the evaluator cannot give, a target stiffness that is not positive
definite, a design size or resolution whose solves do not fit this machine's memory — each is
one ``ValueError`` naming what is allowed. A new campaign is also refused a target stiffness no
design of its space can reach (Voigt bound) and a budget its strategy would spend before it
searches (:meth:`CampaignConfig.check_new`); a stored one stays open to read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.campaigns.objectives import Objective
from engine.evaluators.fracture import FractureEvaluator, check_phases_used
from engine.evaluators.protocol import Evaluator
from engine.evaluators.spinodoid import HomogenizationEvaluator
from engine.search.protocol import Strategy
from engine.search.registry import make_strategy
from engine.search.spaces import SearchSpace, space_from_config
from fem.materials import isotropic_stiffness

__all__ = ["CampaignConfig", "Built", "EVALUATOR_KINDS", "MAX_PRETRAIN"]

#: Evaluator kinds a campaign can label with, and the design spaces each one labels.
EVALUATOR_KINDS = {"fracture": ("checkerboard", "hierarchical"), "homogenization": ("spinodoid",)}
#: Most pre-training designs a campaign may label (fast labels take about 0.1 s each on an 8×8 plate).
MAX_PRETRAIN = 20_000
_DEFAULT_EVALUATOR = {"checkerboard": {"kind": "fracture", "fidelity": "full"},
                      "hierarchical": {"kind": "fracture", "fidelity": "full"},
                      "spinodoid": {"kind": "homogenization", "resolution": 32, "bc": "affine"}}


def _whole(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or int(value) != value or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Built:
    """The working parts of a configuration."""

    space: SearchSpace
    evaluator: Evaluator
    objective: Objective
    strategy: Strategy
    #: Labels the pre-training designs (the fast fracture fidelity of the same set-up); None without pre-training.
    pretrain_evaluator: Evaluator | None = None


@dataclass(frozen=True)
class CampaignConfig:
    """What a campaign does.

    Parameters
    ----------
    space : {"checkerboard", "hierarchical", "spinodoid"}
        Design space; ``space_settings`` refine it (grid size, ρ range, ...; see
        :mod:`engine.search.spaces`).
    strategy : str
        Search strategy (see :data:`engine.search.registry.STRATEGIES`); ``strategy_settings``
        are its keyword arguments.
    objective : mapping
        See :class:`engine.campaigns.objectives.Objective` (e.g. ``{"kind": "metric",
        "metrics": ["toughness"]}``).
    budget : int
        Solver calls: designs labelled by the campaign (a design whose label the store already
        had counts too, so that budgets compare).
    batch_size : int
        Designs proposed and labelled together (≤ budget).
    seed : int
        Seed of the strategy.
    evaluator : mapping
        ``{"kind": "fracture", "fidelity": ..., "options": {...}}`` or ``{"kind":
        "homogenization", "resolution": ..., "bc": ...}``; default by space (fracture, full
        fidelity; homogenisation 32³ affine).
    pretrain : int
        Multi-fidelity: before the first batch, label this many seeded random designs at the
        fast fracture fidelity (one linear solve each, about 1 % of a full label), fit a CNN to
        them and add its predictions to every surrogate (see ``SurrogateStrategy.pretrain``);
        they are stored but not counted in the budget, and the
        objective stays at the evaluator's fidelity. Surrogate strategies with a regressor
        (genetic; self-learning with model ``cnn`` or ``linear``) on fracture labels at the
        strength or full fidelity; 0: none.
    """

    space: str
    strategy: str
    objective: Mapping[str, Any]
    budget: int
    batch_size: int
    seed: int = 0
    space_settings: Mapping[str, Any] = field(default_factory=dict)
    strategy_settings: Mapping[str, Any] = field(default_factory=dict)
    evaluator: Mapping[str, Any] | None = None
    pretrain: int = 0

    def __post_init__(self) -> None:
        for name, example in (("space", '"checkerboard"'), ("strategy", '"genetic"')):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a name such as {example}, got {getattr(self, name)!r}")
        for name, example in (("objective", '{"kind": "metric", "metrics": ["toughness"]}'),
                              ("space_settings", '{"rows": 8, "columns": 8}'),
                              ("strategy_settings", '{"population": 50}'),
                              ("evaluator", '{"kind": "fracture", "fidelity": "full"}')):
            value = getattr(self, name)
            if not isinstance(value, Mapping) and not (name == "evaluator" and value is None):
                raise ValueError(f"{name} must be a JSON object of settings such as {example}, got {value!r}")
        object.__setattr__(self, "budget", _whole("budget", self.budget, 1))
        object.__setattr__(self, "pretrain", _whole("pretrain", self.pretrain, 0))
        if self.pretrain > MAX_PRETRAIN:
            raise ValueError(f"pretrain must be at most {MAX_PRETRAIN} designs, got {self.pretrain}")
        object.__setattr__(self, "batch_size", _whole("batch_size", self.batch_size, 1))
        object.__setattr__(self, "seed", _whole("seed", self.seed, 0))
        if self.batch_size > self.budget:
            raise ValueError(f"batch_size {self.batch_size} is larger than the budget {self.budget}")
        if self.evaluator is None:
            if self.space not in _DEFAULT_EVALUATOR:
                raise ValueError(f"unknown design space {self.space!r}; allowed: {', '.join(_DEFAULT_EVALUATOR)}")
            object.__setattr__(self, "evaluator", dict(_DEFAULT_EVALUATOR[self.space]))

    def to_json(self) -> dict[str, Any]:
        """JSON form (stored with the campaign)."""
        return {"space": self.space, "strategy": self.strategy, "objective": dict(self.objective),
                "budget": self.budget, "batch_size": self.batch_size, "seed": self.seed,
                "space_settings": dict(self.space_settings), "strategy_settings": dict(self.strategy_settings),
                "evaluator": dict(self.evaluator or {}), "pretrain": self.pretrain}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "CampaignConfig":
        """Configuration from its JSON form; unknown keys are ``ValueError``."""
        data = json.loads(data) if isinstance(data, str) else dict(data)
        allowed = list(cls.__dataclass_fields__)
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ValueError(f"unknown campaign setting(s) {unknown}; allowed: {', '.join(allowed)}")
        missing = sorted({"space", "strategy", "objective", "budget", "batch_size"} - set(data))
        if missing:
            raise ValueError(f"a campaign needs {', '.join(missing)}")
        return cls(**data)

    def make_evaluator(self) -> Evaluator:
        """The evaluator of the configuration (validated)."""
        spec = dict(self.evaluator or {})
        kind = spec.pop("kind", None)
        if kind not in EVALUATOR_KINDS:
            raise ValueError(f"unknown evaluator kind {kind!r}; allowed: {', '.join(EVALUATOR_KINDS)}")
        if self.space not in EVALUATOR_KINDS[kind]:
            raise ValueError(f"the {kind} evaluator labels {', '.join(EVALUATOR_KINDS[kind])} designs, not {self.space}")
        if kind == "fracture":
            unknown = sorted(set(spec) - {"fidelity", "options"})
            if unknown:
                raise ValueError(f"unknown fracture evaluator setting(s) {unknown}; allowed: fidelity, options")
            options = spec.get("options")
            if options is not None and not isinstance(options, Mapping):
                raise ValueError(f"the fracture evaluator's options must be a JSON object of plate settings such as "
                                 f'{{"ell": 0.0625}}, got {options!r}')
            return FractureEvaluator.from_options(spec.get("fidelity", "full"), options)
        unknown = sorted(set(spec) - {"resolution", "bc"})
        if unknown:
            raise ValueError(f"unknown homogenization evaluator setting(s) {unknown}; allowed: resolution, bc")
        return HomogenizationEvaluator(spec.get("resolution", 32), spec.get("bc", "affine"))

    def build(self) -> Built:
        """Space, evaluator, objective and a fresh strategy; every check runs here."""
        space = space_from_config(self.space, self.space_settings)
        evaluator = self.make_evaluator()
        objective = Objective.from_config(self.objective)
        if objective.kind == "target_stiffness" and self.space != "spinodoid":
            raise ValueError("a target stiffness is a spinodoid objective; this campaign searches " + self.space)
        objective.check(evaluator)
        _check_fits(space, evaluator)
        strategy = make_strategy(self.strategy, space, self.seed, self.strategy_settings, objective)
        return Built(space, evaluator, objective, strategy, self._pretrain_evaluator(evaluator, strategy))

    def check_new(self) -> Built:
        """:meth:`build`, and what only a new campaign is refused for (a stored one stays open to
        read): a space of fewer different designs than the budget, a target stiffness beyond reach (Voigt
        bound), a budget its strategy would spend
        before it searches (``check_budget``, e.g. the Bayesian initial design)."""
        built = self.build()
        size = built.space.distinct_designs()
        if size is not None and size < self.budget:
            raise ValueError(f"this {self.space} space holds only {size} different design{'' if size == 1 else 's'}, "
                             f"fewer than the budget of {self.budget} solver calls: lower the budget or widen the space "
                             f"({', '.join(f'{k} {v}' for k, v in built.space.settings().items())})")
        _check_reachable(built.objective, built.space, built.evaluator)
        check_budget = getattr(built.strategy, "check_budget", None)
        if callable(check_budget):
            check_budget(self.budget)
        return built

    def _pretrain_evaluator(self, evaluator: Evaluator, strategy: Strategy) -> Evaluator | None:
        """The fast evaluator of the pre-training labels (None without); ``ValueError`` where pre-training cannot help."""
        if not self.pretrain:
            return None
        if not isinstance(evaluator, FractureEvaluator) or evaluator.fidelity == "fast":
            labels = f"at the {evaluator.fidelity} fidelity" if isinstance(evaluator, FractureEvaluator) else \
                "by homogenisation"
            raise ValueError("pretrain labels designs at the fast fracture fidelity for an objective at the strength or "
                             f"full fidelity; this campaign labels {self.space} designs {labels}")
        if not hasattr(strategy, "pretrain"):
            raise ValueError(f"pretrain needs a surrogate strategy (genetic, self-learning); {self.strategy} has no "
                             "surrogate to pre-train")
        strategy.check_pretraining()
        return FractureEvaluator("fast", evaluator.setup)


def _check_reachable(objective: Objective, space: SearchSpace, evaluator: Evaluator) -> None:
    """Refuse a target stiffness that no design of the space can reach: with void as the other
    phase, the Voigt bound gives ``C_ii <= rho C_ii(solid)`` for every microstructure (the uniform
    strain is admissible under affine and periodic conditions alike), so ``C11``, ``C22``, ``C33``
    (the matched ones) must lie below the largest ``rho`` of the space times the solid's."""
    if objective.kind != "target_stiffness" or not isinstance(evaluator, HomogenizationEvaluator):
        return
    rho_max = float(space.bounds()[0][1])
    settings = evaluator.settings
    solid = float(isotropic_stiffness(settings["E"], settings["nu"])[0, 0])
    for name, value in zip(("C11", "C22", "C33"), objective.matched_target()):
        if value >= solid:
            raise ValueError(f"target {name} = {value:g} E_s is out of reach: the solid itself has {name} = "
                             f"{solid:.6g} E_s, and a spinodoid (rho < 1) less (Voigt bound); give C11, C22 and C33 "
                             f"below {rho_max * solid:.6g} E_s for this space (rho up to {rho_max:g})")
        if value >= rho_max * solid:
            raise ValueError(f"target {name} = {value:g} E_s is out of reach: a spinodoid of this space (rho up to "
                             f"{rho_max:g}) has {name} below rho × the solid's = {rho_max * solid:.6g} E_s (Voigt "
                             "bound); give C11, C22 and C33 below that, or widen the space's rho range")


def _check_fits(space: SearchSpace, evaluator: Evaluator) -> None:
    """Refuse a campaign whose solves do not fit this machine's memory (every design of a
    space has the same size, so one estimate covers them all), whose phases are not the block types of
    its designs, or whose voxels are too coarse."""
    if isinstance(evaluator, FractureEvaluator):
        sub = getattr(space, "sub", 1)  # hierarchical designs are meshed as their expanded grid
        evaluator.check_grid(space.rows * sub, space.columns * sub)
    if isinstance(evaluator, (FractureEvaluator, HomogenizationEvaluator)):
        # a phase for every block type of the space's palette and none for another; voxels fine enough
        # for the space's spinodoids (all of the same wavelength and cell): one design tells for them all
        sample = space.sample(1, np.random.default_rng(0))[0]
        evaluator.check_design(sample)
        if isinstance(evaluator, FractureEvaluator):
            check_phases_used(evaluator.setup, [sample])
