"""Script: label a batch of vector designs through an executor (used by the labelling tests).

Usage: python support_label_batch.py STORE COUNTER_FILE N DELAY EXECUTOR
"""

from __future__ import annotations

import sys

from engine.evaluators.labelling import label_designs
from engine.runtime.executors import make_executor
from engine.store import SolverKey, Store
from support_tasks import CountingEvaluator, VectorDesign

KEY = SolverKey("counting", "1", "exact")


def batch(n: int) -> list[VectorDesign]:
    """Designs 0..n-1; every 7th has a negative first component and fails."""
    return [VectorDesign((-1.0 if i % 7 == 3 else float(i), float(i), 1.0)) for i in range(n)]


def main() -> None:
    path, counter, n, delay, spec = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    store = Store(path, create=False)
    with make_executor(spec) as executor:
        report = label_designs(store, batch(n), CountingEvaluator(counter, delay), executor)
    print(report.newly_labelled, report.already_labelled)


if __name__ == "__main__":
    main()
