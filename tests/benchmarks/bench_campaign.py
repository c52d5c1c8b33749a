"""Closed-loop campaigns against random search on full-fidelity fracture labels of 8×8 plates.

Four campaigns per seed, each with the same budget of solver calls (``--budget``, batches of
``--batch``), all in one store so that a design two campaigns propose is labelled once:

- ``genetic`` on 8×8 soft/stiff checkerboards (surrogate GA, after Yu, Qin & Buehler 2019) and
  ``random`` on the same space;
- ``self-learning`` on 4×4 hierarchical designs (building blocks of 2×2 cells, so 8×8 plates;
  after Gu, Chen, Richmond & Buehler 2018) and ``random`` on the same space.

Objective: toughness (work of fracture per unit volume, MJ/m³) of the edge-cracked plate (crack
from the left edge at mid-height, 0.2 of the width in mode I, 0.5 in mode II), mode I (tension) or
mode II (shear, the set-up of Yu et al.), full phase-field fidelity. A loop and the random search of its space with
the same seed share their first batch (the loop's initial training set).

Printed: per seed the final best, the best of the initial training set and the gain over it;
the median final best; the acceleration factor (solver calls random search needs to reach the
loop's median final best, divided by the calls the loop needed; random search's calls are
estimated from all its labels pooled over seeds as 1/p, p the share of random designs at least
that tough, with a lower bound when none is); each campaign's winner re-labelled by a fresh
solver run; where the winners put soft blocks at the crack tip; a PNG of the median best-so-far.

Usage::

    python tests/benchmarks/bench_campaign.py --measure             # time of one label per space
    python tests/benchmarks/bench_campaign.py [--mode I] [--seeds 0 1 2 3 4] [--budget 40]
        [--batch 8] [--workers 2] [--store DIR] [--plot PATH] [--tag TAG] [--setting STRATEGY.KEY=JSON ...]
        [--pretrain N]                                              # multi-fidelity: N fast labels first
    python tests/benchmarks/bench_campaign.py --fidelity fast ...   # smoke run: minimise G/σ² instead

Prints figures; asserts nothing.

Measured (fracture solver version 6; budget 48 in batches of 8, seeds 0–4, 2 workers; medians
over seeds of the best toughness in MJ/m³, every winner re-labelled with relative difference 0):

====================================  =====================  ===========  ============  ====================
loop against random, mode             loop / random          gain over    acceleration  soft share of the
                                                             its initial                tip's blocks, winners
                                                             set                        (random: 49–68 %)
====================================  =====================  ===========  ============  ====================
genetic, checkerboards, I             7.593 / 6.894 (+10 %)  +19.4 %     ≥ 5.9×        100 % in all 5
self-learning, hierarchical, I        4.909 / 4.800 (+2 %)   +5.0 %      9.6×          50–100 %, median 50 %
genetic, checkerboards, II            6.403 / 6.199 (+3 %)   +9.4 %      2.7×          75–100 %, median 100 %
self-learning, hierarchical, II       4.901 / 4.656 (+5 %)   +11.4 %     ≥ 5.5×        25–75 %, median 50 %
====================================  =====================  ===========  ============  ====================

Mode I ran in 2761 s, mode II in 3851 s (both default phases crushing at 400 MPa; 25 of the 799
mode-II labels unbroken at ε = 1, each still carrying 10–21 % of its peak (the four looked at:
through the ligament between two en-echelon cracks); two of the 20 mode-II winners among them,
marked ≥).

Mode II again under fracture solver version 8 (bonded grips, the crack to mid-width, runs to ε = 2
ending at 0.5 % of the peak or at the through crack; ``--mode II``, the same budget, batches, seeds and
workers; 3133 s, median label 5.7 s):

====================================  =====================  ===========  ============  ====================
loop against random, mode             loop / random          gain over    acceleration  soft share of the
                                                             its initial                tip's blocks, winners
                                                             set                        (random: 49–53 %)
====================================  =====================  ===========  ============  ====================
genetic, checkerboards, II            7.392 / 6.957 (+6 %)   +12.5 %     2.3×          100 % in all 5
self-learning, hierarchical, II       6.478 / 5.901 (+10 %)  +5.3 %      3.1×          25–75 %, median 75 %
====================================  =====================  ===========  ============  ====================

The loops beat random search on 3 (genetic) and 4 (self-learning) of 5 seeds; every winner re-labelled
with relative difference 0. Of the 799 labels, 19 are unbroken at ε = 2, 772 have a crack band from the
tip to an edge and 13 a band along a grip (0.14–0.23 mm; ``along_grip``); one winner is among both, random
search's on hierarchical designs in seed 0 (marked ≥), no loop's.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from designs.base import Design
from engine.campaigns.campaign import Campaign
from engine.evaluators.fracture import FractureEvaluator
from engine.runtime.executors import make_executor
from engine.search.spaces import GridSpace, HierarchicalSpace
from engine.store import Store, StoreError

#: (strategy, space) of the loops, each compared with random search on its own space.
LOOPS = (("genetic", "checkerboard"), ("self-learning", "hierarchical"))
SPACES = {"checkerboard": {"rows": 8, "columns": 8}, "hierarchical": {"rows": 4, "columns": 4, "sub": 2}}
#: Objective metric by fidelity (the fast fidelity, one linear solve, has no toughness: a smoke run
#: minimises the energy release rate per squared stress instead).
METRICS = {"full": ("toughness", "MJ/m³"), "fast": ("energy_release_rate_per_stress_squared", "mm/MPa")}


def strategy_settings(strategy: str, space: str, mode: str, extra: dict[str, dict], pretrain: int = 0) -> dict:
    """Settings of a campaign: defaults, mirror augmentation where labels are mirror invariant, a
    regressor where fast labels pre-train the surrogate, overrides."""
    settings: dict = {}
    if strategy == "genetic" and space == "checkerboard" and mode == "I":
        settings["symmetry"] = "mirror_rows"  # mode I: the plate's mirror image about the crack plane has the same label
    if strategy == "self-learning" and pretrain:
        settings["model"] = "cnn"  # its default classifier cannot use the fast labels' predictions
    return {**settings, **extra.get(strategy, {})} if strategy != "random" else {}


def config(strategy: str, space: str, seed: int, args: argparse.Namespace, extra: dict[str, dict]) -> dict:
    """The campaign configuration of one strategy on one space with one seed."""
    return {"space": space, "strategy": strategy, "budget": args.budget, "batch_size": args.batch, "seed": seed,
            "space_settings": SPACES[space], "objective": {"kind": "metric", "metrics": [METRICS[args.fidelity][0]]},
            "evaluator": {"kind": "fracture", "fidelity": args.fidelity, "options": {"mode": args.mode}},
            "strategy_settings": strategy_settings(strategy, space, args.mode, extra, args.pretrain),
            "pretrain": args.pretrain if strategy != "random" else 0}


def pretraining_cost(loops: list[Campaign]) -> str:
    """Wall time of the loops' fast pre-training labels, in full labels' worth (mean full label of the loops)."""
    fast_key = loops[0]._parts.pretrain_evaluator.key()
    fast = {label.design_hash: label.wall_time or 0.0 for label in loops[0].store.labels(fast_key)}
    seconds = [sum(fast[d.content_hash()] for d in c.pretraining_designs()) for c in loops]
    full = np.mean([r.evaluation.wall_time for c in loops for r in c.results()])
    return (f"pre-training: {len(loops[0].pretraining_designs())} fast labels per campaign, median "
            f"{np.median(seconds):.0f} s of solver time = {np.median(seconds) / full:.1f} full labels "
            f"(mean full label {full:.1f} s); not counted in the budget")


def measure(args: argparse.Namespace) -> None:
    """Wall time of one label of two random designs of each space (one core)."""
    evaluator = FractureEvaluator.from_options(args.fidelity, {"mode": args.mode})
    metric, unit = METRICS[args.fidelity]
    rng = np.random.default_rng(0)
    for space in (GridSpace(8, 8), HierarchicalSpace(4, 4, 2)):
        for design in space.sample(2, rng):
            start = time.perf_counter()
            evaluation = evaluator(design)
            print(f"{space.name:<13} mode {args.mode}: {time.perf_counter() - start:6.1f} s  {evaluation.status}  "
                  f"{metric} {evaluation.metrics.get(metric, float('nan')):.4g} {unit}", flush=True)


def plate(design: Design) -> np.ndarray:
    """Soft (0) / stiff (1) cells of the plate, row 0 at the bottom, column 0 at the cracked edge."""
    return (design if design.space == "checkerboard" else design.expand()).as_array()


def tip_soft(design: Design, crack_length: float) -> tuple[float, float]:
    """Soft share of the cells at the crack tip and of the 2×2 cells just ahead of it.

    The crack runs from the left edge at mid-height to x = ``crack_length`` of the width: on an
    8×8 plate a 0.2 crack's tip lies in column 1 (x in [0.125, 0.25)), between rows 3 and 4 (the
    crack plane y = 0.5); a 0.5 crack's tip (mode II) is the corner of columns 3 and 4.
    """
    cells = plate(design)
    rows, columns = cells.shape
    x, mid = crack_length * columns, rows // 2
    first, last = math.ceil(x) - 1, math.floor(x)  # the columns touching the tip: one, or two on a block edge
    at_tip = cells[mid - 1:mid + 1, first:last + 1]
    ahead = cells[mid - 1:mid + 1, last + 1:last + 3]
    return float(np.mean(at_tip == 0)), float(np.mean(ahead == 0))


def first_hit(trace: np.ndarray, target: float) -> float:
    """Solver calls (1-based) until the best so far reaches ``target``; inf if never."""
    hit = np.flatnonzero(np.nan_to_num(trace, nan=-np.inf) >= target)
    return float(hit[0] + 1) if hit.size else np.inf


def random_calls(campaigns: list[Campaign], target: float) -> tuple[float, str]:
    """Expected solver calls of random search to reach ``target``: 1/p from its pooled labels (p: share ≥ target)."""
    values = np.array([r.values[0] for c in campaigns for r in c.results()], dtype=float)
    values = np.nan_to_num(values, nan=-np.inf)  # a failed label counts as a miss
    hits = int(np.sum(values >= target))
    if hits == 0:
        return float(len(values)), f"> {len(values)} (none of {len(values)} random labels reached it)"
    return len(values) / hits, f"{len(values) / hits:.0f} ({hits} of {len(values)} random labels reached it)"


def reverify(campaigns: list[Campaign], executor: Executor) -> list[tuple[float, float]]:
    """Each campaign's winner labelled again by a fresh solver run: (stored, fresh) objective metric."""
    metric = campaigns[0].objective.metrics[0]
    winners = [c.best(1)[0] for c in campaigns if c.best(1)]
    futures = [executor.submit(c.evaluator, w.candidate.design) for c, w in zip(campaigns, winners)]
    return [(float(w.evaluation.metrics[metric]), float(f.result().metrics.get(metric, np.nan)))
            for w, f in zip(winners, futures)]


def best_text(campaign: Campaign) -> str:
    """The campaign's best value; ``≥`` before it where that plate did not break (a lower bound)."""
    best = campaign.best(1)[0]
    return ("≥" if best.evaluation.metrics.get("broke") is False else "") + f"{best.values[0]:.4g}"


def gain(final: float, initial: float) -> float:
    """Relative improvement of an objective value to maximise (works for negated metrics too)."""
    return (final - initial) / abs(initial)


def report_loop(strategy: str, space: str, loops: list[Campaign], randoms: list[Campaign], executor: Executor) -> dict:
    """Print the table of one loop against random search on its space; returns its summary figures."""
    metric = loops[0].objective.metrics[0]
    crack = loops[0].evaluator.setup.crack_length  # mm on the 1 mm plate: 0.2 in mode I, 0.5 in mode II
    sign = "" if loops[0].evaluator.metric(metric).larger_is_better else "minus "
    print(f"\n== {strategy} on {space} vs random search on {space}: {sign}{metric}, budget {loops[0].config.budget} "
          f"solver calls each ==")
    print(f"{'seed':>4} {'loop best':>10} {'initial best':>13} {'gain':>7} {'random best':>12} {'loop≥random':>12}"
          f" {'tip soft':>9} {'ahead soft':>10}")
    finals, initial = [], []
    for loop, rand in zip(loops, randoms):
        strategy_obj = loop._parts.strategy
        n_initial = sum(h["n"] for h in strategy_obj.history if h["kind"] == "random" and "reason" not in h)
        trace = loop.best_so_far()
        finals.append(trace[-1])
        initial.append(trace[n_initial - 1])
        tip, ahead = tip_soft(loop.best(1)[0].candidate.design, crack)
        print(f"{loop.config.seed:>4} {best_text(loop):>10} {initial[-1]:13.4g} {gain(trace[-1], initial[-1]):7.1%} "
              f"{best_text(rand):>12} {str(trace[-1] >= rand.best_so_far()[-1]):>12} {tip:9.0%} {ahead:10.0%}")
    if any(best_text(c).startswith("≥") for c in loops + randoms):
        print("≥: the winner did not break by the largest strain of the test; its toughness is a lower bound")
    median_loop = float(np.median(finals))
    median_random = float(np.median([r.best_so_far()[-1] for r in randoms]))
    # the lower median: at least half of the seeds reach the median final best, so it is finite
    loop_calls = float(np.sort([first_hit(c.best_so_far(), median_loop) for c in loops])[(len(loops) - 1) // 2])
    calls, text = random_calls(randoms, median_loop)
    random_tip = np.mean([tip_soft(r.candidate.design, crack) for c in randoms for r in c.results()], axis=0)
    print(f"median final best: loop {median_loop:.4g}, random {median_random:.4g} ({gain(median_loop, median_random):+.1%}); "
          f"loop over its initial training set: median gain {np.median([gain(f, i) for f, i in zip(finals, initial)]):+.1%} "
          f"(initial set: {n_initial} random labels)")
    print(f"solver calls to reach the loop's median final best {median_loop:.4g}: loop {loop_calls:.0f} (median over "
          f"seeds), random search {text} -> acceleration {'>= ' if text.startswith('>') else ''}{calls / loop_calls:.1f}×")
    print(f"soft share of random designs: at the tip {random_tip[0]:.0%}, ahead of it {random_tip[1]:.0%}")
    if loops[0].config.pretrain:
        print(pretraining_cost(loops))
    checks = reverify(loops + randoms, executor)
    worst = max(abs(fresh / stored - 1) for stored, fresh in checks)
    print(f"winners re-labelled by a fresh solver run: {len(checks)} designs, largest relative difference {worst:.2e}; "
          + ", ".join(f"{s:.4g}→{f:.4g}" for s, f in checks[:len(loops)]))
    return {"median_loop": median_loop, "median_random": median_random, "acceleration": calls / loop_calls}


def plot(groups: dict[tuple[str, str], list[Campaign]], path: Path, mode: str) -> None:
    """Median (line) and range (band) over seeds of the best objective value against solver calls."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.4), dpi=120)
    for (strategy, space), campaigns in groups.items():
        traces = np.array([c.best_so_far() for c in campaigns]) * campaigns[0].objective.signs(campaigns[0].evaluator)[0]
        calls = np.arange(1, traces.shape[1] + 1)
        line, = ax.step(calls, np.nanmedian(traces, axis=0), where="post", label=f"{strategy} ({space})")
        ax.fill_between(calls, np.nanmin(traces, axis=0), np.nanmax(traces, axis=0), step="post", alpha=0.15,
                        color=line.get_color())
    ax.set_xlabel("solver calls")
    first = next(iter(groups.values()))[0]
    ax.set_ylabel("best so far: " + first.objective.axis_label(first.evaluator))
    ax.set_title(f"mode {mode}, 8×8 plates, median and range over {len(next(iter(groups.values())))} seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("I", "II"), default="I")
    parser.add_argument("--fidelity", choices=tuple(METRICS), default="full")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--measure", action="store_true", help="time one label of each space and stop")
    parser.add_argument("--tag", default="", help="suffix of the loops' campaign names: reruns the loops in the same "
                        "store (with changed code or settings), reusing every stored label")
    parser.add_argument("--setting", action="append", default=[], metavar="STRATEGY.KEY=JSON")
    parser.add_argument("--pretrain", type=int, default=0, metavar="N",
                        help="the loops pre-train their surrogates on N fast labels (campaign names get -ptN)")
    args = parser.parse_args()
    if args.measure:
        measure(args)
        return
    extra: dict[str, dict] = {}
    for item in args.setting:
        key, value = item.split("=", 1)
        strategy, name = key.split(".", 1)
        extra.setdefault(strategy, {})[name] = json.loads(value)
    directory = args.store or Path(tempfile.mkdtemp(prefix=f"bench-campaign-mode{args.mode}-"))
    directory.mkdir(parents=True, exist_ok=True)
    store = Store(directory)
    print(f"== campaigns, mode {args.mode}, {args.fidelity} fidelity, 8×8 plates: budget {args.budget} solver calls per campaign "
          f"in batches of {args.batch}, seeds {args.seeds}, {args.workers} workers; store {directory}", flush=True)
    groups: dict[tuple[str, str], list[Campaign]] = {}
    start = time.perf_counter()
    with make_executor(f"local:{args.workers}") as executor:
        for seed in args.seeds:
            for strategy, space in [*LOOPS, ("random", "checkerboard"), ("random", "hierarchical")]:
                name = f"mode{args.mode}-{strategy}-{space}-s{seed}"
                if strategy != "random":
                    name += (f"-pt{args.pretrain}" if args.pretrain else "") + (f"-{args.tag}" if args.tag else "")
                try:
                    campaign = Campaign.open(store, name)
                except StoreError:  # not there yet: create it
                    campaign = Campaign.create(store, name, config(strategy, space, seed, args, extra))
                t0 = time.perf_counter()
                if campaign.outdated:  # reported as stored, its winner re-labelled by this solver below
                    print(f"  {campaign.outdated}")
                else:
                    campaign.run(executor)
                groups.setdefault((strategy, space), []).append(campaign)
                print(f"  {name}: best {campaign.best_so_far()[-1]:.4g} ({time.perf_counter() - t0:.0f} s, "
                      f"{store.status().labels_ok} labels in the store)", flush=True)
        print(f"\nall campaigns: {time.perf_counter() - start:.0f} s")
        summary = {}
        for strategy, space in LOOPS:
            summary[strategy] = report_loop(strategy, space, groups[(strategy, space)], groups[("random", space)],
                                            executor)
    path = args.plot or directory / f"best_so_far_mode{args.mode}.png"
    plot(groups, path, args.mode)
    print(f"\nplot: {path}\nstore: {directory}")


if __name__ == "__main__":
    main()
