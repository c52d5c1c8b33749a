"""What a solve costs: peak memory and time from the problem size, by measured scaling.

The guard rails refuse, before a job starts, a problem whose memory estimate exceeds the
machine's budget (:mod:`engine.runtime.resources`); every estimate they use is here. Each is
a power law in the number of unknowns ``n`` (or of field samples), fitted to measurements of
``tests/benchmarks/bench_resources.py``: every case in a fresh process, peak resident memory
(the high-water mark ``VmHWM`` of ``/proc/self/status``, equal here to ``getrusage``'s
``ru_maxrss`` of a process started from a small parent: what the process held, allocator slack
included), and wall times on one core of this machine (2 cores, shared: times are indications,
memory is what the guard acts on). Memory is the whole process: the baseline of a worker
process that imported the solver plus a power law above it.

Plate (AT2 phase field, :mod:`fem.phasefield`; Q1 mesh of ``nx × ny`` elements, ``n = 2 (nx +
1)(ny + 1)`` unknowns). The peak is the LDLᵀ factor of the displacement matrix (QDLDL, AMD
ordering, fill ~ n log n) plus the assembler's arrays, over a baseline of 59 MB. Measured on
the 8×8 design of seed 0 (``elements_per_block`` 8 … 64), one core, machine shared:

===========  ========  ========  ===============  ===================  ===========
elements     unknowns  peak MB   factorisation s  stagger iteration s  estimate MB
===========  ========  ========  ===============  ===================  ===========
 65 × 64       8 606       89         0.021             0.0069               91
129 × 128     33 592      179         0.20              0.062               190
257 × 256    132 716      584         3.5               0.98                600
513 × 512    527 570    2 122        25                 2.0               2 298
===========  ========  ========  ===============  ===================  ===========

Fitted (least squares in log-log): memory above the baseline 2 771 B × n^1.031, used as
**memory = 59 MB + 3 000 B × n^1.03** (2 to 8 % above each measured peak); one
factorisation = 2.6e-9 s × n^1.76; one stagger iteration without factorisation = 1.9e-8 s ×
n^1.44. A load step of the default set-up takes 6.5 stagger iterations and 0.4 factorisations
(medians over strength and full runs of three random 8×8 designs: 740, 610, 560 iterations with
47, 29, 49 factorisations over 123, 97 and 80 steps to failure; 14 to 64 steps to the peak), so
**step = 6.5 t_iteration + 0.4 t_factorisation**, and a run is about 100 load steps to failure
(``"full"``), 30 to the peak (``"strength"``) or one factorisation (``"fast"``). The largest mesh
:mod:`fem.fracture` makes, 1024 × 1024 elements (2.1 M unknowns), is extrapolated: 9.1 GB, a
factorisation of about 5 minutes and a load step of about 5 minutes.

Voxel homogenisation (:mod:`fem.homogenize`; ``r³`` voxels). The upper estimate counts every
node as carrying unknowns, ``n = 3 (r - 1)³`` (affine) or ``3 r³`` (periodic), as a ρ = 0.9
spinodoid nearly does (ρ = 0.5 had 70 % of that at 48³). Measured (ρ = 0.9, affine; baseline
255 MB, torch):

==========  ========  ========  =======  ===========
resolution  unknowns  peak MB   seconds  estimate MB
==========  ========  ========  =======  ===========
   24³       36 273      580      2.2         605
   32³       87 738      523      2.5         605
   48³      299 946    1 157     14         1 176
   64³      712 818    2 398     41         2 473
==========  ========  ========  =======  ===========

**memory = 255 MB + max(3 100 B × n, 350 MB)**: linear in n from 32³ on (2 900 to 3 000 B per
unknown measured); below, pyamg stops at two levels whose coarse one (2 000 to 3 500 unknowns at
20³ to 24³) is solved densely, which costs up to 345 MB whatever the size (measured over
20³ … 40³ and ρ = 0.3, 0.9). Time = 3.0e-5 s × n^1.03.

STL export of a spinodoid (:func:`designs.stl.spinodoid_mesh`; ``s = (r × tiles + 2)³`` field
samples, the voxel centres and the two face layers: field, marching cubes and the triangle arrays, over the 392 MB baseline of the
``matloop spinodoid`` command), measured at (resolution, tiles) = (32, 1), (48, 2), (64, 2),
(48, 4): 419, 700, 945 and 2 557 MB, 0.9 to 54 s; **memory = 422 MB + 320 B × s** (1.00 to 1.14
of the measured), time = 7 µs × s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Cost",
    "PLATE_FACTORIZATIONS_PER_STEP",
    "PLATE_ITERATIONS_PER_STEP",
    "PLATE_STEPS",
    "format_bytes",
    "format_seconds",
    "largest_size",
    "plate_cost",
    "stl_cost",
    "voxel_cost",
]

#: Process memory before the problem (B): a worker that imported the fracture evaluator.
_PLATE_BASE = 59 * 2**20
#: memory above the baseline = a n^p (B), n = unknowns.
_PLATE_MEMORY = (3000.0, 1.03)
#: one LDLᵀ factorisation (ordering included) = a n^p (s).
_PLATE_FACTOR = (2.6e-9, 1.76)
#: one stagger iteration without factorisation (displacement CG, damage CG, assembly) = a n^p (s).
_PLATE_ITERATION = (1.9e-8, 1.44)
#: Medians of default strength and full runs (module notes).
PLATE_ITERATIONS_PER_STEP = 6.5
PLATE_FACTORIZATIONS_PER_STEP = 0.4
#: Typical load steps of a run at each fidelity (``"fast"``: one linear solve).
PLATE_STEPS = {"fast": 1, "strength": 30, "full": 100}

_VOXEL_BASE = 255 * 2**20
_VOXEL_MEMORY = (3100.0, 1.0)
#: the dense coarse level of a two-level AMG hierarchy (grids up to ~25³)
_VOXEL_FLOOR = 350 * 2**20
_VOXEL_SECONDS = (3.0e-5, 1.03)

_STL_BASE = 422 * 2**20
_STL_MEMORY = (320.0, 1.0)
_STL_SECONDS = (7.0e-6, 1.0)


def _power(law: tuple[float, float], n: float) -> float:
    a, p = law
    return a * float(n) ** p


@dataclass(frozen=True)
class Cost:
    """Estimated resources of one solve.

    Attributes
    ----------
    problem : str
        What is solved, e.g. ``"a 64 × 64 element plate"``.
    unknowns : int
        Unknowns (degrees of freedom) or, for an STL export, field samples.
    memory : float
        Peak resident memory of the process that solves it (bytes).
    step_seconds : float
        Wall time of one step (s): a load step of a phase-field run, else the whole solve.
    steps : int
        Typical number of steps of a run (1 when the solve is one step).
    step : str
        What a step is, e.g. ``"load step"``.
    """

    problem: str
    unknowns: int
    memory: float
    step_seconds: float
    steps: int = 1
    step: str = "solve"

    @property
    def seconds(self) -> float:
        """Typical wall time of the whole run (s)."""
        return self.step_seconds * self.steps

    def describe(self) -> str:
        """One phrase with the numbers, e.g. ``"a 64 × 64 element plate (8 450 unknowns) needs about
        91 MB of memory and 0.09 s per load step (9 s for a run of ~100 steps)"``."""
        what = "field samples" if self.step == "export" else "unknowns"
        text = (f"{self.problem} ({self.unknowns:,} {what}) needs about {format_bytes(self.memory)} of memory and "
                f"{format_seconds(self.step_seconds)}")
        if self.steps > 1:
            text += f" per {self.step} ({format_seconds(self.seconds)} for a run of ~{self.steps} steps)"
        return text


def plate_cost(nx: int, ny: int, fidelity: str = "full") -> Cost:
    """Memory and time of a phase-field (or, ``"fast"``, linear) run of an ``nx × ny`` element plate.

    Parameters
    ----------
    nx, ny : int
        Elements along x and y (>= 1); any size (a refused problem is estimated too).
    fidelity : {"fast", "strength", "full"}
        One linear solve, a run to the peak or to failure (sets the typical step count).

    Returns
    -------
    Cost
        Memory = 59 MB + 3 000 B n^1.03, step = 6.5 t_iteration + 0.4 t_factorisation (module notes).
    """
    if fidelity not in PLATE_STEPS:
        raise ValueError(f"unknown fidelity {fidelity!r}; allowed: {', '.join(PLATE_STEPS)}")
    n = 2 * (int(nx) + 1) * (int(ny) + 1)
    memory = _PLATE_BASE + _power(_PLATE_MEMORY, n)
    factor, iteration = _power(_PLATE_FACTOR, n), _power(_PLATE_ITERATION, n)
    problem = f"a {nx} × {ny} element plate"
    if fidelity == "fast":
        return Cost(problem, n, memory, factor + iteration)
    step = PLATE_ITERATIONS_PER_STEP * iteration + PLATE_FACTORIZATIONS_PER_STEP * factor
    return Cost(problem, n, memory, step, PLATE_STEPS[fidelity], "load step")


def voxel_cost(resolution: int, bc: str = "affine") -> Cost:
    """Upper estimate of memory and time of the homogenisation of a ``resolution³`` voxel cell.

    Parameters
    ----------
    resolution : int
        Voxels per cell side (>= 2).
    bc : {"affine", "periodic"}
        Boundary condition: ``3 (r - 1)³`` or ``3 r³`` unknowns when every node is solid.

    Returns
    -------
    Cost
        Memory = 255 MB + max(3 100 B n, 350 MB), time = 3.0e-5 s n^1.03 (module notes).
    """
    r = int(resolution)
    n = 3 * (r if bc == "periodic" else r - 1) ** 3
    memory = _VOXEL_BASE + max(_power(_VOXEL_MEMORY, n), _VOXEL_FLOOR)
    return Cost(f"a {r}³ voxel cell", n, memory, _power(_VOXEL_SECONDS, n))


def stl_cost(resolution: int, tiles: int = 1) -> Cost:
    """Memory and time of the STL export of a spinodoid sampled ``resolution`` times per cell side.

    Returns
    -------
    Cost
        ``unknowns`` holds the field samples ``(resolution × tiles + 2)³``; memory = 422 MB +
        320 B per sample, time = 7 µs per sample (module notes).
    """
    side = int(resolution) * int(tiles) + 2
    s = side**3
    return Cost(f"an STL of {tiles}³ cell(s) at {resolution} samples per cell side", s,
                _STL_BASE + _power(_STL_MEMORY, s), _power(_STL_SECONDS, s), step="export")


def largest_size(cost_of: Callable[[int], Cost], memory: float, low: int, high: int) -> int | None:
    """Largest ``k`` in ``low..high`` with ``cost_of(k).memory <= memory`` (bisection: cost grows with k).

    Returns ``None`` when not even ``low`` fits.
    """
    if cost_of(low).memory > memory:
        return None
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if cost_of(mid).memory <= memory else (low, mid - 1)
    return low


def format_bytes(size: float) -> str:
    """``size`` bytes in binary units, e.g. ``"1.5 GB"`` (GB = 2³⁰ B)."""
    for unit, scale in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if abs(size) >= scale:
            value = size / scale
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:,.0f} {unit}"
    return f"{size:.0f} B"


def format_seconds(seconds: float) -> str:
    """A duration for people: ``"0.09 s"``, ``"4.2 min"``, ``"3.1 h"``, ``"12 days"``."""
    if not math.isfinite(seconds):
        return "forever"
    # (unit, seconds in it, smallest count shown in it: 36 h rather than 1.5 days)
    for unit, scale, least in (("years", 3.15576e7, 2), ("days", 86400.0, 2), ("h", 3600.0, 1), ("min", 60.0, 1)):
        if seconds >= least * scale:
            value = seconds / scale
            return f"{value:.2g} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{seconds:.2g} s"
