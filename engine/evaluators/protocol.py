"""The evaluator protocol: everything that labels a design follows it.

An evaluator is a frozen, picklable object holding a solver configuration. It says

- who it is: ``name`` and ``version`` of the solver, and the ``fidelity``;
- its fully resolved ``settings``: every setting that changes a label, defaults filled in,
  so that the same physics always gives the same store key (:meth:`Evaluator.key`);
- what it measures: a table of :class:`Metric` (name, unit, meaning, whether larger is better);
- and it labels: ``evaluator(design)`` returns an :class:`Evaluation` (status, reason,
  metrics, wall time) and never raises for a design the solver could not handle.

The split of a solver's raw output into status, reason and metrics is written once, here
(:func:`evaluation_from_output`).
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from designs.base import Design
from engine.runtime.jobs import JobCancelled
from engine.store.records import SolverKey

__all__ = ["Metric", "Evaluation", "Evaluator", "ProgressCallback", "evaluation_from_output"]

#: ``progress(fraction, message)``; it may raise :class:`engine.runtime.jobs.JobCancelled`.
ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class Metric:
    """One entry of an evaluator's metric table.

    Attributes
    ----------
    name : str
        Key of the value in :attr:`Evaluation.metrics`.
    unit : str
        Unit of the value (``"1"`` for dimensionless numbers).
    description : str
        What the number is, in the field's words.
    larger_is_better : bool or None
        Direction as an objective; ``None`` for numbers that are not objectives (diagnostics).
    timing : bool
        True for wall-clock figures, which differ between runs of the same label.
    symbol : str
        Short name for pages and plots where the name is long (``"G/σ²"``); empty: the name.
    """

    name: str
    unit: str
    description: str
    larger_is_better: bool | None = None
    timing: bool = False
    symbol: str = ""

    @property
    def label(self) -> str:
        """Label with the unit, e.g. ``"toughness (MJ/m³)"``: column names of tables and files."""
        return self.name if self.unit == "1" else f"{self.name} ({self.unit})"

    @property
    def display(self) -> str:
        """The symbol (or name) with the unit, e.g. ``"G/σ² (mm/MPa)"``: what pages and plots show."""
        short = self.symbol or self.name.replace("_", " ")
        return short if self.unit == "1" else f"{short} ({self.unit})"


@dataclass(frozen=True)
class Evaluation:
    """The outcome of labelling one design.

    Attributes
    ----------
    status : {"ok", "failed"}
        Whether the solver produced a label.
    reason : str or None
        Why it failed; on an ok label, a caveat the solver attached (e.g. a run that ended at
        its strain limit before the end criterion), else None.
    metrics : dict
        JSON-serialisable numbers, named as in the evaluator's metric table (diagnostics too).
    wall_time : float
        Seconds spent on the design.
    """

    status: str
    reason: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    wall_time: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in ("ok", "failed"):
            raise ValueError(f"evaluation status must be 'ok' or 'failed', got {self.status!r}")
        if self.reason is not None and not isinstance(self.reason, str):
            raise ValueError(f"an evaluation's reason must be a string or None, got {type(self.reason).__name__}")
        if self.status == "failed" and not self.reason:
            raise ValueError("a failed evaluation needs a reason")
        if not isinstance(self.metrics, dict):
            raise ValueError(f"an evaluation's metrics must be a dict, got {type(self.metrics).__name__}")
        if not (isinstance(self.wall_time, (int, float)) and math.isfinite(self.wall_time) and self.wall_time >= 0):
            raise ValueError(f"wall_time must be a finite number of seconds >= 0, got {self.wall_time!r}")

    @property
    def ok(self) -> bool:
        """True when the label is usable."""
        return self.status == "ok"


def evaluation_from_output(output: Mapping[str, Any], wall_time: float) -> Evaluation:
    """Split a solver's raw output into status, reason and metrics.

    Parameters
    ----------
    output : mapping
        Solver output; may hold ``status`` (``"ok"`` unless said otherwise) and ``reason``.
    wall_time : float
        Seconds.

    Returns
    -------
    Evaluation
        Any status other than ``"ok"`` becomes ``"failed"``; a failure without a reason gets
        one; an ok output holding a number that is not finite (NaN, ±inf) fails, naming it
        (the number is stored as None: stores keep JSON, which has no NaN).
    """
    metrics = dict(output)
    status = str(metrics.pop("status", "ok"))
    reason = metrics.pop("reason", None) or None
    reason = None if reason is None else str(reason)
    bad = sorted(name for name, value in metrics.items() if not _finite(value))
    if bad:
        metrics.update(dict.fromkeys(bad))
        if status == "ok":
            status, reason = "failed", f"the solver returned non-finite {', '.join(bad)}"
    if status != "ok":
        return Evaluation("failed", reason or "solver reported failure without a reason", metrics, wall_time)
    return Evaluation("ok", reason, metrics, wall_time)


def _finite(value: Any) -> bool:
    """False for a float that is NaN or infinite, also inside lists and dicts."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


class Evaluator(ABC):
    """Base of the evaluators (see the module docstring).

    Subclasses are frozen dataclasses (picklable) and define ``name``, ``version``,
    ``fidelity``, ``spaces``, ``METRICS``, :attr:`settings` and :meth:`_solve`.
    """

    #: Metric table: every number the evaluator reports, with its unit.
    METRICS: ClassVar[tuple[Metric, ...]] = ()
    #: Design spaces this evaluator labels.
    spaces: ClassVar[tuple[str, ...]] = ()

    @property
    @abstractmethod
    def name(self) -> str:
        """Solver name, e.g. ``"phasefield-at2"``."""

    @property
    @abstractmethod
    def version(self) -> str:
        """Solver version; bumped whenever a label would change."""

    @property
    @abstractmethod
    def fidelity(self) -> str:
        """Fidelity level, e.g. ``"fast"`` or ``"voxel-32"``."""

    @property
    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Every setting that changes a label, defaults filled in (JSON-serialisable)."""

    @abstractmethod
    def _solve(self, design: Design, progress: ProgressCallback | None) -> tuple[Mapping[str, Any], Any]:
        """Raw solver output (with ``status``/``reason`` when it failed) and artefacts for display."""

    def key(self) -> SolverKey:
        """Store key of this configuration: equal physics, equal key."""
        return SolverKey(self.name, self.version, self.fidelity, self.settings)

    def metric(self, name: str) -> Metric:
        """The table entry of metric ``name``; ``ValueError`` listing the known ones otherwise."""
        for metric in self.METRICS:
            if metric.name == name:
                return metric
        raise ValueError(f"{self.name} reports no metric {name!r}; known: {', '.join(m.name for m in self.METRICS)}")

    def provides(self, name: str) -> bool:
        """Whether labels of this configuration carry a value of metric ``name`` (all do by default)."""
        return any(metric.name == name for metric in self.METRICS)

    def check_design(self, design: Design) -> None:
        """``ValueError`` unless ``design`` belongs to a space this evaluator labels."""
        if getattr(design, "space", None) not in self.spaces:
            raise ValueError(
                f"{self.name} labels {', '.join(self.spaces)} designs, not {getattr(design, 'space', type(design).__name__)}"
            )

    def run(self, design: Design, progress: ProgressCallback | None = None) -> tuple[Evaluation, Any]:
        """Label ``design``; returns the evaluation and the solver's artefacts (curves, fields).

        A solver error of any kind gives a failed evaluation with the reason; only a
        cancellation (:class:`~engine.runtime.jobs.JobCancelled` raised by ``progress``) and a
        design of the wrong space propagate.
        """
        self.check_design(design)
        start = time.perf_counter()
        try:
            output, artefacts = self._solve(design, progress)
        except JobCancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - a failing design must not stop a batch
            return Evaluation("failed", f"{type(exc).__name__}: {exc}", {}, time.perf_counter() - start), None
        return evaluation_from_output(output, time.perf_counter() - start), artefacts

    def __call__(self, design: Design) -> Evaluation:
        """Label ``design`` (picklable entry point for executors)."""
        return self.run(design)[0]
