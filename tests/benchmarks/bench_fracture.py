"""Benchmark of the fracture labeller: seconds per label at each fidelity, 8×8 and 16×16.

Prints, over seeded random designs (soft fraction 0.2–0.8), the median seconds per label for
fidelities fast / strength / full, the median number of linear solves per label (displacement
and damage solves), labels per hour with a local 2-process pool, and as yardstick the time of
one linear solve (LDLᵀ factorisation + solve) of the same undamaged mesh, measured in the same
run. For 8×8 designs it also times full labels in mode II (shear, spectral split, side rollers,
top free in y, crack to mid-width, run to 0.5 % of the peak, the through crack or ε = 2) next to
mode I (run to 10 % of the peak or ε = 0.5), both with bonded grips (the defaults of solver
version 8) on the same designs, each the median of ``--repeats-full`` runs (``--modes-only``: only that). Usage::

    python tests/benchmarks/bench_fracture.py [--designs 3] [--designs16 3] [--skip-full16] [--modes-only]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from designs.checkerboard import Checkerboard
from fem.fracture import build_problem, label
from fem.linsolve import ReusedFactorSolver
from fem.phasefield_assembly import PhaseFieldAssembler


def yardstick(design: Checkerboard, repeats: int = 5) -> float:
    """Median seconds of one linear elastic solve (LDLᵀ factorise + solve) of the design's mesh."""
    pb, _ = build_problem(design)
    asm = PhaseFieldAssembler(pb)
    K = asm.stiffness(np.ones((pb.grid.nelem, 4)))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        asm.solve_displacement(K, ReusedFactorSolver(), 1e-3)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _timed(args):
    design, fidelity, *mode = args
    t = time.perf_counter()
    m = label(design, fidelity, mode=mode[0] if mode else "I")
    return time.perf_counter() - t, m


def modes(designs: list[Checkerboard], repeats: int) -> None:
    """Full labels in mode I and mode II of the same designs: median seconds over repeats, per design.

    Also prints the ratio of the mode-II median to the mode-I median.
    """
    medians = {}
    for mode in ("I", "II"):
        secs, steps, ends = [], [], []
        for d in designs:
            runs = [_timed((d, "full", mode)) for _ in range(repeats)]
            secs.append(statistics.median(dt for dt, _ in runs))
            steps.append(runs[-1][1].get("steps", 0))
            ends.append(runs[-1][1].get("end_criterion"))
        print(f"  full mode {mode:2s}: median {statistics.median(secs):8.3f} s/label (per design {', '.join(f'{x:.2f}' for x in secs)}), "
              f"median steps {statistics.median(steps):.0f}, ends {ends}")
        medians[mode] = statistics.median(secs)
    print(f"  full mode II / mode I: {medians['II'] / medians['I']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--designs", type=int, default=3, help="random 8x8 designs")
    ap.add_argument("--designs16", type=int, default=3, help="random 16x16 designs (0 = skip 16x16)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of the fast label")
    ap.add_argument("--repeats-full", type=int, default=3, help="repeats of each mode I / mode II full label")
    ap.add_argument("--skip-full16", action="store_true")
    ap.add_argument("--modes-only", action="store_true", help="only the mode I / mode II full labels of the 8x8 designs")
    args = ap.parse_args()
    rng = np.random.default_rng(2024)
    if args.modes_only:
        designs = [Checkerboard.random(8, soft_fraction=rng.uniform(0.2, 0.8), seed=rng) for _ in range(args.designs)]
        print(f"== 8x8: full labels, mode I and mode II, {args.designs} designs")
        modes(designs, args.repeats_full)
        return
    for size, n in ((8, args.designs), (16, args.designs16)):
        if n < 1:
            continue
        designs = [Checkerboard.random(size, soft_fraction=rng.uniform(0.2, 0.8), seed=rng) for _ in range(n)]
        y = yardstick(designs[0])
        pb, _ = build_problem(designs[0])
        print(f"== {size}x{size}: {pb.grid.nelem} elements, {2 * pb.grid.nnode} DOF; yardstick one linear solve = {y * 1e3:.1f} ms")
        for fid in ("fast", "strength", "full"):
            if fid == "full" and size == 16 and args.skip_full16:
                print(f"  {fid:8s}: skipped")
                continue
            reps = args.repeats if fid == "fast" else 1
            secs, solves, status = [], [], []
            for d in designs:
                ts = []
                for _ in range(reps):
                    dt, m = _timed((d, fid))
                    ts.append(dt)
                secs.append(statistics.median(ts))
                solves.append(m.get("linear_solves", 0))
                status.append(m["status"])
            med = statistics.median(secs)
            print(
                f"  {fid:8s}: median {med:8.3f} s/label (min {min(secs):.3f}, max {max(secs):.3f}), "
                f"median linear solves {statistics.median(solves):.0f}, = {med / y:.0f} yardsticks, status {status}"
            )
            if fid == "fast" or size == 8:  # pools of slow 16x16 labels take too long here
                batch = designs * (4 if fid == "fast" else 1)
                t = time.perf_counter()
                with ProcessPoolExecutor(2) as ex:
                    list(ex.map(_timed, [(d, fid) for d in batch]))
                wall = time.perf_counter() - t
                print(f"  {fid:8s}: local 2-process pool {len(batch)} labels in {wall:.2f} s = {3600 * len(batch) / wall:.0f} labels/hour")
        if size == 8:
            modes(designs, args.repeats_full)


if __name__ == "__main__":
    main()
