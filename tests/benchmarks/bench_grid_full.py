"""Grid surrogates trained on full-fidelity fracture labels: CNN vs linear baseline.

Labels ``--designs`` seeded random 8×8 checkerboards (soft fraction 0.1–0.9) with the
phase-field solver run to failure (``fidelity="full"``) into a store (``--store``; a rerun
labels only what is missing), through the local process pool. Then trains, on the first 75 %,
the linear and CNN regressors on log toughness and the good/bad (top/bottom half) classifiers,
and prints on the held-out 25 %: Spearman rank correlation with the solver's toughness and
good/bad accuracy. Also prints the label time. Asserts nothing.

The default set-up is the cheap mesh of the tests (4 elements per block, ℓ = ½ block, so
h = ℓ/2 as in the default); ``--elements-per-block 8 --ell-per-block 0.25`` gives the default
labelling set-up at about 4x the cost.

Usage::

    python tests/benchmarks/bench_grid_full.py [--designs 400] [--store DIR] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from designs.checkerboard import Checkerboard
from engine.fracture_labels import fracture_key, label_fracture_batch
from engine.parallel import make_executor
from engine.store import Store
from engine.surrogates import (
    GridCNNClassifier,
    GridCNNRegressor,
    GridLinearClassifier,
    GridLinearRegressor,
    good_bad_labels,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--designs", type=int, default=400)
    parser.add_argument("--store", type=Path, help="project directory of the store (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--elements-per-block", type=int, default=4)
    parser.add_argument("--ell-per-block", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    torch.set_num_threads(1)

    rng = np.random.default_rng(args.seed)
    designs = [Checkerboard.random(8, soft_fraction=float(rng.uniform(0.1, 0.9)), seed=rng) for _ in range(args.designs)]
    options = {"elements_per_block": args.elements_per_block, "ell_per_block": args.ell_per_block}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.store or Path(tmp))
        t0 = time.perf_counter()
        executor = make_executor(f"local:{args.workers}")
        try:
            report = label_fracture_batch(store, designs, "full", options, executor)
        finally:
            executor.shutdown()
        wall = time.perf_counter() - t0
        labels = {l.design_hash: l for l in store.labels(fracture_key("full", options))}
    ok = [(d, labels[d.content_hash()]) for d in designs if labels.get(d.content_hash()) is not None
          and labels[d.content_hash()].status == "ok" and labels[d.content_hash()].metrics.get("toughness")]
    secs = [l.wall_time for _, l in ok if l.wall_time]
    print(f"== {args.designs} random 8x8 designs, full fidelity, {options}")
    print(f"labelled now {report.newly_labelled}, {len(ok)} ok; {wall:.0f} s wall with {args.workers} workers; "
          f"median {statistics.median(secs):.2f} s/label (max {max(secs):.1f})")
    grids = np.array([d.as_array() for d, _ in ok])
    y = np.log(np.array([l.metrics["toughness"] for _, l in ok]))
    n_train = int(0.75 * len(ok))
    tr, te = slice(0, n_train), slice(n_train, None)
    for cls in (GridLinearRegressor, GridCNNRegressor):
        t = time.perf_counter()
        model = cls(random_state=0, device="cpu").fit(grids[tr], y[tr])
        rho = spearmanr(model.predict(grids[te]), y[te])[0]
        print(f"{cls.__name__:22s}: Spearman vs toughness {rho:.3f} on {len(ok) - n_train} held-out designs "
              f"(train {time.perf_counter() - t:.1f} s)")
    good = good_bad_labels(y)
    for cls in (GridLinearClassifier, GridCNNClassifier):
        model = cls(random_state=0, device="cpu").fit(grids[tr], good[tr])
        rho = spearmanr(model.rank_scores(grids[te]), y[te])[0]
        print(f"{cls.__name__:22s}: good/bad accuracy {model.score(grids[te], good[te]):.3f}, "
              f"Spearman of P(good) {rho:.3f}")


if __name__ == "__main__":
    main()
