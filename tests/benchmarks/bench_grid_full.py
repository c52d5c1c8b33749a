"""Grid surrogates trained on full-fidelity fracture labels: CNN vs linear baseline.

Labels ``--designs`` seeded random 8×8 checkerboards (soft fraction 0.1–0.9) with the
phase-field solver run to failure (``fidelity="full"``) into a store (``--store``; a rerun
labels only what is missing), through the local process pool. Then, in ``--folds``-fold cross
validation (each fold held out once, the models trained on the rest), it trains the linear and
CNN regressors on log toughness (single models and seeded ensembles of 5) and the good/bad
(top/bottom half) classifiers, and prints per fold and on average: Spearman rank correlation
of the held-out predictions with the solver's toughness, and good/bad accuracy. The CNN uses
``symmetric_inference=True`` (mirror average about the crack plane). Also prints the label
time. Asserts nothing.

Measured (1600 designs, 4 folds of 400): the CNN ranks better than the linear model in every
fold; with 400 or 800 designs the two were within the split-to-split noise.

The default set-up is the cheap one of the tests (ℓ = 1/16 mm, h = ℓ/2 = 1/32 mm: 4 elements
per block); ``--ell 0.03125`` gives the default labelling set-up (h = 1/64 mm) at about 4x the
cost.

Usage::

    python tests/benchmarks/bench_grid_full.py [--designs 1600] [--folds 4] [--store DIR] [--workers 2]
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
from sklearn.base import clone

from designs.checkerboard import Checkerboard
from engine.evaluators.fracture import fracture_key, label_fracture_batch
from engine.runtime.executors import make_executor
from engine.store import Store
from engine.surrogates import (
    GridCNNClassifier,
    GridCNNRegressor,
    GridLinearClassifier,
    GridLinearRegressor,
    SurrogateEnsemble,
    good_bad_labels,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--designs", type=int, default=1600)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--store", type=Path, help="project directory of the store (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ell", type=float, default=1 / 16, help="phase-field length (mm); the mesh is h = ell/2")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    torch.set_num_threads(1)

    rng = np.random.default_rng(args.seed)
    designs = [Checkerboard.random(8, soft_fraction=float(rng.uniform(0.1, 0.9)), seed=rng) for _ in range(args.designs)]
    options = {"ell": args.ell}
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
    regressors = {
        "linear": GridLinearRegressor(device="cpu"),
        "CNN": GridCNNRegressor(device="cpu", symmetric_inference=True),
        "linear x5": SurrogateEnsemble(GridLinearRegressor(device="cpu"), n_members=5),
        "CNN x5": SurrogateEnsemble(GridCNNRegressor(device="cpu", symmetric_inference=True), n_members=5),
    }
    classifiers = {
        "linear": GridLinearClassifier(device="cpu"),
        "CNN": GridCNNClassifier(device="cpu", symmetric_inference=True),
    }
    rho = {name: [] for name in regressors}
    acc = {name: [] for name in classifiers}
    t = time.perf_counter()
    for k, test in enumerate(np.array_split(np.arange(len(ok)), args.folds)):
        train = np.setdiff1d(np.arange(len(ok)), test)
        for name, template in regressors.items():
            model = clone(template).set_params(random_state=0).fit(grids[train], y[train])
            rho[name].append(spearmanr(model.predict(grids[test]), y[test])[0])
        good = good_bad_labels(y[train])  # threshold from the training fold only
        good_test = (y[test] > np.median(y[train])).astype(int)
        for name, template in classifiers.items():
            model = clone(template).set_params(random_state=0).fit(grids[train], good)
            acc[name].append(model.score(grids[test], good_test))
        print(f"fold {k + 1}/{args.folds} ({test.size} held out): Spearman vs toughness "
              + ", ".join(f"{n} {v[-1]:.3f}" for n, v in rho.items())
              + "; good/bad accuracy " + ", ".join(f"{n} {v[-1]:.3f}" for n, v in acc.items()), flush=True)
    print(f"mean over {args.folds} folds ({time.perf_counter() - t:.0f} s): Spearman "
          + ", ".join(f"{n} {np.mean(v):.3f}" for n, v in rho.items())
          + "; good/bad accuracy " + ", ".join(f"{n} {np.mean(v):.3f}" for n, v in acc.items()))
    wins = sum(c > l for c, l in zip(rho["CNN"], rho["linear"]))
    wins5 = sum(c > l for c, l in zip(rho["CNN x5"], rho["linear x5"]))
    print(f"CNN ranks better than linear in {wins}/{args.folds} folds (ensembles: {wins5}/{args.folds})")


if __name__ == "__main__":
    main()
