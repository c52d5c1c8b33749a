"""Measure what the solvers cost, fit the scaling, and compare with the guard rails' estimates.

The guard rails (:mod:`fem.cost`, :mod:`engine.runtime.resources`) refuse a job whose
estimated memory exceeds the machine's budget. The estimates are power laws in the number of
unknowns fitted to what this script measures; run it again after a solver change and copy the
fitted constants into :mod:`fem.cost` if they moved.

Each case runs in a fresh Python process, which imports the evaluator module first (the
baseline memory of a job's worker process) and reports its peak resident memory
(the figure is what the process really held,
allocator slack included; ``VmHWM`` of ``/proc/self/status``, which unlike ``getrusage``'s
``ru_maxrss`` does not keep the forking parent's peak across ``exec``) and times:

* ``plate``: the 8×8 design (seed 0) meshed with ``elements_per_block`` = 8, 16, 32, 64
  (64² … 512² elements): the assembler set-up, one LDLᵀ factorisation of the undamaged
  stiffness (ordering included) and a short phase-field run (two load steps), from which the
  seconds of one stagger iteration without factorisation follow;
* ``voxel``: a ρ = 0.9 spinodoid (nearly every node carries unknowns: the upper estimate the
  guard uses) homogenised at 24³ … 64³ under affine conditions;
* ``stl``: the STL export of a periodic ρ = 0.5 spinodoid at (resolution, tiles) = (32, 1),
  (48, 2), (64, 2), (48, 4).

Prints a table per solver with the measured figures next to the estimate of :mod:`fem.cost`
(ratio estimate / measured: above 1 means the estimate errs on the safe side), then the
power laws fitted to the measurements (least squares in log-log). Usage::

    python tests/benchmarks/bench_resources.py [--sections plate voxel stl] [--quick]

``--quick`` leaves out the largest size of each section (the 512² plate takes about a minute
and 2.5 GB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

from fem import cost

PLATE = r"""
import json, sys, time
import numpy as np
import engine.evaluators.fracture  # noqa: F401 - the worker's baseline
from threadpoolctl import threadpool_limits
from designs.checkerboard import Checkerboard
from fem import fracture
from fem.linsolve import SPDFactor
from fem.phasefield import SolverOptions, solve_phasefield
from fem.phasefield_assembly import PhaseFieldAssembler
base = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
epb = int(sys.argv[1])
design = Checkerboard.random(8, soft_fraction=0.5, seed=0)
pb, _ = fracture.build_problem(design, fracture.PlateSetup(elements_per_block=epb))
with threadpool_limits(limits=1, user_api="blas"):
    t = time.perf_counter(); asm = PhaseFieldAssembler(pb); setup = time.perf_counter() - t
    Kff, _ = asm.reduced(asm.degraded_stiffness(np.zeros(pb.grid.nnode)))
    t = time.perf_counter(); SPDFactor(Kff); factor = time.perf_counter() - t
    del asm, Kff
    opts = SolverOptions(stop="peak", max_displacement=2e-2 + 1e-9)
    t = time.perf_counter(); res = solve_phasefield(pb, opts); run = time.perf_counter() - t
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
ny, nx = pb.grid.shape
print(json.dumps({"nx": nx, "ny": ny, "dofs": 2 * pb.grid.nnode, "base": base, "peak": peak, "setup": setup,
                  "factor": factor, "iteration": (run - setup - res.factorizations * factor) / res.stagger_iterations}))
"""

VOXEL = r"""
import json, sys, time
import engine.evaluators.spinodoid  # noqa: F401 - the worker's baseline
from designs.spinodal import Spinodoid
from fem import homogenize
base = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
r = int(sys.argv[1])
t = time.perf_counter(); out = homogenize.label(Spinodoid(rho=0.9, seed=0), resolution=r, bc="affine")
seconds = time.perf_counter() - t
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"resolution": r, "dofs": 3 * (r - 1) ** 3, "base": base, "peak": peak, "seconds": seconds,
                  "status": out["status"]}))
"""

STL = r"""
import json, sys, time
import engine.cli.spinodoid  # noqa: F401 - the command's baseline
from designs.spinodal import Spinodoid
from designs.stl import spinodoid_mesh
import skimage.measure, trimesh  # noqa: F401
base = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
r, tiles = int(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter(); mesh = spinodoid_mesh(Spinodoid(rho=0.5, seed=0, periodic=True), r, 10.0, tiles)
data = mesh.to_stl("bench"); seconds = time.perf_counter() - t
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"resolution": r, "tiles": tiles, "samples": (r * tiles + 2) ** 3, "base": base, "peak": peak,
                  "seconds": seconds}))
"""


def _child(code: str, *args: object) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fit(x: list[float], y: list[float]) -> tuple[float, float]:
    """``(a, p)`` of ``y = a x^p``, least squares in log-log."""
    p, log_a = np.polyfit(np.log(x), np.log(y), 1)
    return float(np.exp(log_a)), float(p)


def _mb(b: float) -> str:
    return f"{b / 2**20:8.0f}"


def plate(sizes: list[int]) -> None:
    print("plate: 8×8 design, elements_per_block", sizes)
    print(f"{'elements':>12} {'unknowns':>9} {'base MB':>8} {'peak MB':>8} {'est MB':>8} {'ratio':>6} "
          f"{'setup s':>8} {'factor s':>9} {'iter s':>8} {'est step s':>10}")
    rows = [_child(PLATE, n) for n in sizes]
    for m in rows:
        est = cost.plate_cost(m["nx"], m["ny"])
        step = cost.PLATE_ITERATIONS_PER_STEP * m["iteration"] + cost.PLATE_FACTORIZATIONS_PER_STEP * m["factor"]
        print(f"{m['nx']:>5} × {m['ny']:<4} {m['dofs']:9d} {_mb(m['base'])} {_mb(m['peak'])} {_mb(est.memory)} "
              f"{est.memory / m['peak']:6.2f} {m['setup']:8.3f} {m['factor']:9.3f} {m['iteration']:8.4f} "
              f"{est.step_seconds:10.3f} (measured {step:.3f})")
    n = [m["dofs"] for m in rows]
    base = float(np.median([m["base"] for m in rows]))
    for name, values in (("memory above the baseline (B)", [m["peak"] - base for m in rows]),
                         ("factorisation (s)", [m["factor"] for m in rows]),
                         ("stagger iteration (s)", [m["iteration"] for m in rows]),
                         ("assembler set-up (s)", [m["setup"] for m in rows])):
        a, p = _fit(n, values)
        print(f"  fit {name:32s} = {a:.4g} n^{p:.3f}")
    print(f"  baseline of the worker process: {base / 2**20:.0f} MB")


def voxel(sizes: list[int]) -> None:
    print("voxel: ρ = 0.9 spinodoid, affine, resolutions", sizes)
    print(f"{'resolution':>10} {'unknowns':>9} {'base MB':>8} {'peak MB':>8} {'est MB':>8} {'ratio':>6} "
          f"{'seconds':>8} {'est s':>8}")
    rows = [_child(VOXEL, r) for r in sizes]
    for m in rows:
        est = cost.voxel_cost(m["resolution"], "affine")
        print(f"{m['resolution']:>10} {m['dofs']:9d} {_mb(m['base'])} {_mb(m['peak'])} {_mb(est.memory)} "
              f"{est.memory / m['peak']:6.2f} {m['seconds']:8.2f} {est.seconds:8.2f}")
    n = [m["dofs"] for m in rows]
    base = float(np.median([m["base"] for m in rows]))
    for name, values in (("memory above the baseline (B)", [m["peak"] - base for m in rows]),
                         ("seconds", [m["seconds"] for m in rows])):
        a, p = _fit(n, values)
        print(f"  fit {name:32s} = {a:.4g} n^{p:.3f}")
    print(f"  baseline of the worker process: {base / 2**20:.0f} MB")


def stl(cases: list[tuple[int, int]]) -> None:
    print("stl: periodic ρ = 0.5 spinodoid, (resolution, tiles)", cases)
    print(f"{'res × tiles':>11} {'samples':>9} {'base MB':>8} {'peak MB':>8} {'est MB':>8} {'ratio':>6} "
          f"{'seconds':>8} {'est s':>8}")
    rows = [_child(STL, r, t) for r, t in cases]
    for m in rows:
        est = cost.stl_cost(m["resolution"], m["tiles"])
        print(f"{m['resolution']:>6} × {m['tiles']:<3} {m['samples']:9d} {_mb(m['base'])} {_mb(m['peak'])} "
              f"{_mb(est.memory)} {est.memory / m['peak']:6.2f} {m['seconds']:8.2f} {est.seconds:8.2f}")
    n = [m["samples"] for m in rows]
    base = float(np.median([m["base"] for m in rows]))
    for name, values in (("memory above the baseline (B)", [m["peak"] - base for m in rows]),
                         ("seconds", [m["seconds"] for m in rows])):
        a, p = _fit(n, values)
        print(f"  fit {name:32s} = {a:.4g} n^{p:.3f}")
    print(f"  baseline of the process: {base / 2**20:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", nargs="+", default=["plate", "voxel", "stl"], choices=["plate", "voxel", "stl"])
    ap.add_argument("--quick", action="store_true", help="leave out the largest size of each section")
    args = ap.parse_args()
    cut = -1 if args.quick else None
    if "plate" in args.sections:
        plate([8, 16, 32, 64][:cut])
    if "voxel" in args.sections:
        voxel([24, 32, 48, 64][:cut])
    if "stl" in args.sections:
        stl([(32, 1), (48, 2), (64, 2), (48, 4)][:cut])


if __name__ == "__main__":
    main()
