"""Picklable designs and solvers for store, labelling and executor tests (imported by workers)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from designs.base import content_hash
from engine.evaluators.protocol import Evaluator, ProgressCallback


@dataclass(frozen=True)
class VectorDesign:
    """A design that is just a tuple of numbers."""

    values: tuple[float, ...]
    space: ClassVar[str] = "vector"

    def genome(self) -> list[float]:
        return [float(v) for v in self.values]

    def content_hash(self) -> str:
        return content_hash(self.space, self.genome())


def counting_solver(counter_path: str, delay: float, design: VectorDesign) -> dict[str, Any]:
    """Known-truth solver: norm and sum of the vector; appends one line per call to a file.

    A negative first component makes it fail, like a solver that does not converge.
    """
    with open(counter_path, "a") as handle:
        handle.write(f"{os.getpid()} {design.content_hash()}\n")
    time.sleep(delay)
    values = np.asarray(design.values, dtype=float)
    if values[0] < 0:
        return {"status": "failed", "reason": "negative first component"}
    return {"norm": float(np.linalg.norm(values)), "sum": float(values.sum())}


def count_calls(counter_path: str) -> int:
    """Number of solver calls recorded in the counter file."""
    if not os.path.exists(counter_path):
        return 0
    with open(counter_path) as handle:
        return sum(1 for _ in handle)


@dataclass(frozen=True)
class CountingEvaluator(Evaluator):
    """Evaluator around :func:`counting_solver`; its key is ``SolverKey("counting", "1", "exact")``."""

    counter_path: str
    delay: float = 0.0

    name: ClassVar[str] = "counting"
    version: ClassVar[str] = "1"
    fidelity: ClassVar[str] = "exact"
    spaces: ClassVar[tuple[str, ...]] = ("vector",)

    @property
    def settings(self) -> dict[str, Any]:
        return {}

    def _solve(self, design: VectorDesign, progress: ProgressCallback | None) -> tuple[Mapping[str, Any], None]:
        return counting_solver(self.counter_path, self.delay, design), None
