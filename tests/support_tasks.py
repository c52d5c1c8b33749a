"""Picklable designs and solvers for store, labelling and executor tests (imported by workers)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from designs.base import content_hash


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
