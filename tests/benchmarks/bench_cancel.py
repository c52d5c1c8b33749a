"""Cancel latency of the largest plate the guard rails allow on this machine.

Each case starts a ``label-fracture`` job through the app's job pool (a worker process, as the
page does), waits until the job's progress message shows the solver at the chosen point, waits
``--after`` seconds more so that the cancel lands in the middle of the work there, requests the
cancel and measures the seconds until the job's record says ``cancelled`` (the solver saw the
cancel and the job ended) and until its worker process has exited. Prints the median of
``--repeats`` and, for comparison, the estimated time of one load step (:func:`fem.cost.plate_cost`):
what a cancel checked only between load steps (before issue 16) waited for at worst.

Cases:

* the largest plate allowed: the 8×8 design (seed 0) with the most elements per block whose
  memory estimate fits the budget of :func:`engine.runtime.resources.memory_budget` (capped by
  the 1024 elements a side :mod:`fem.fracture` meshes at most), cancelled ``--after`` s into the
  assembly of the plate and ``5 × --after`` s into load step 1 (inside its first LDLᵀ
  factorisation, minutes long at 1024²);
* a 256 × 256 element plate cancelled ``--after / 2`` s into load step 4 (stagger iterations and
  CG solves).

Usage::

    python tests/benchmarks/bench_cancel.py [--repeats 3] [--after 2] [--skip-largest]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from designs.checkerboard import Checkerboard
from engine.runtime.job_pool import JobPool
from engine.runtime.resources import memory_budget
from engine.store import Store
from fem.cost import largest_size, plate_cost
from fem.fracture import MAX_ELEMENTS_PER_SIDE, PlateSetup, mesh_elements

DESIGN = Checkerboard.random(8, soft_fraction=0.5, seed=0)


def cancel_once(pool: JobPool, store: Store, elements_per_block: int, wait_for: str, after: float,
                timeout: float) -> tuple[float, float, str]:
    """Start a job, cancel it ``after`` s after its message starts with ``wait_for``; seconds to
    the recorded cancel and to the worker's exit, and the message the cancel came at."""
    params = {"space": "checkerboard", "genome": DESIGN.genome(), "fidelity": "full",
              "options": {"elements_per_block": elements_per_block}}
    job = pool.submit("label-fracture", params)
    deadline = time.monotonic() + timeout
    while not store.get_job(job).message.startswith(wait_for):
        if store.get_job(job).finished or time.monotonic() > deadline:
            raise RuntimeError(f"job ended or timed out before '{wait_for}': {store.get_job(job)}")
        time.sleep(0.01)
    time.sleep(after)
    workers = psutil.Process().children()
    message = store.get_job(job).message
    start = time.monotonic()
    store.request_cancel(job)
    while store.get_job(job).status != "cancelled":
        if store.get_job(job).finished:
            raise RuntimeError(f"the job ended otherwise: {store.get_job(job)}")
        time.sleep(0.005)
    recorded = time.monotonic() - start
    psutil.wait_procs(workers, timeout=600)
    exited = time.monotonic() - start
    pool.wait(60)
    return recorded, exited, message


def case(title: str, elements_per_block: int, wait_for: str, after: float, repeats: int, timeout: float) -> None:
    cost = plate_cost(*mesh_elements(8, 8, PlateSetup(elements_per_block=elements_per_block)))
    print(f"{title} (8×8 design, elements_per_block {elements_per_block}), cancel {after:g} s after "
          f"'{wait_for}': {cost.describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        pool = JobPool(store.path, max_workers=1)
        try:
            runs = [cancel_once(pool, store, elements_per_block, wait_for, after, timeout) for _ in range(repeats)]
        finally:
            pool.shutdown()
    recorded = [r for r, _, _ in runs]
    exited = [e for _, e, _ in runs]
    print(f"  cancelled at: {runs[-1][2]!r}")
    print(f"  seconds from the cancel request to the job recorded as cancelled: "
          f"median {statistics.median(recorded):.3f} "
          f"(runs {', '.join(f'{r:.3f}' for r in recorded)})")
    print(f"  seconds to the worker process's exit: median {statistics.median(exited):.3f} "
          f"(runs {', '.join(f'{e:.3f}' for e in exited)})")
    print(f"  for comparison, one load step (estimate, what a check between steps waits at worst): "
          f"{cost.step_seconds:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--after", type=float, default=2.0, help="seconds into the stage before the cancel")
    ap.add_argument("--skip-largest", action="store_true", help="only the 256 × 256 plate")
    args = ap.parse_args()
    budget = memory_budget()
    largest = largest_size(lambda k: plate_cost(*mesh_elements(8, 8, PlateSetup(elements_per_block=k))),
                           budget.bytes, 1, MAX_ELEMENTS_PER_SIDE // 8)
    print(f"memory budget {budget}; largest allowed 8×8 plate: elements_per_block {largest}")
    if not args.skip_largest and largest:
        case("largest plate, during the assembly", largest, "assembling", args.after, args.repeats, 600)
        # 10 s in: past the stiffness assembly of the first iteration, inside the first factorisation
        case("largest plate, inside load step 1", largest, "load step 1", 5 * args.after, args.repeats, 900)
    case("256² plate, inside load step 4", 32, "step 3:", 0.5 * args.after, args.repeats, 600)


if __name__ == "__main__":
    main()
