"""Benchmark of the unsupervised order parameter (Boattini et al. 2020) on the Kob–Andersen glass.

Usage::

    python tests/benchmarks/bench_softness_unsupervised.py [--seeds 0 1 2] [--epochs 100]
        [--neighbors sann 1.4] [--all-species]

Data: ``tests/data/glass`` (3D Kob–Andersen 80:20, T = 0.44, propensity at t ≈ τα; BOTAN
release). The autoencoder and the two-cluster mixture are fitted on the A particles of
configurations 1–10 (32 770 particles, no propensity used) and applied to configurations
401–403. Printed, for each neighbour definition and seed:

* the Pearson correlation of the mobile-cluster probability P with propensity on the A
  particles of each test configuration, and their mean;
* the fit time (q̄ descriptors + Voronoi volumes + autoencoder + mixture, one torch thread),
  the two cluster weights, and the inputs that drive P (correlation of q̄_l with P).

Next to it, on the same particles: the shipped supervised ridge regression of propensity on
structure functions (:func:`engine.analysis.softness.shipped.load_shipped`), and a supervised
ridge regression on the same q̄_l inputs as the autoencoder (trained on the propensity of
configurations 1–10), the linear ceiling of what these eight inputs carry.
``--all-species`` adds a species-blind fit (``species=None``, all 4096 particles) scored on A
particles and on all particles (the latter mostly measures whether the clusters sort the
species, B particles being the more mobile). The fit time is the median over seeds.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import RidgeCV

from engine.analysis.softness.isoconfig import read_isoconfigurational
from engine.analysis.softness.shipped import KA_BOX, load_shipped
from engine.analysis.softness.unsupervised import UnsupervisedRecipe, describe, fit_unsupervised

DATA = Path(__file__).resolve().parents[1] / "data" / "glass"
TRAIN, TEST = tuple(range(1, 11)), (401, 402, 403)


def _neighbors(text: str) -> int | float | str:
    if text.isdigit():
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _row(name: str, values: list[float], extra: str = "") -> None:
    cells = " ".join(f"{v:>7.3f}" for v in values)
    print(f"{name:<44} {cells} {np.mean(values):>7.3f}  {extra}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--neighbors", nargs="+", default=["sann", "1.4"])
    parser.add_argument("--all-species", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    samples = {k: read_isoconfigurational(DATA / f"ka3d_T0.44_config{k}.npz", box_length=KA_BOX)
               for k in TRAIN + TEST}
    A = {k: s.system.species == "A" for k, s in samples.items()}
    print(f"Kob–Andersen T = 0.44, train {TRAIN[0]}–{TRAIN[-1]}, test {TEST}; {os.cpu_count()} CPUs, "
          f"1 torch thread, epochs {args.epochs}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'Pearson with propensity (A particles)':<44} "
          + " ".join(f"{k:>7}" for k in TEST) + f" {'mean':>7}")
    ridge = load_shipped()[1]
    _row("supervised: shipped ridge (structure fns)",
         [_pearson(ridge.predict(samples[k].system)[A[k]], samples[k].propensity[A[k]]) for k in TEST])
    for text in args.neighbors:
        nb = _neighbors(text)
        base = UnsupervisedRecipe(species="A", neighbors=nb, epochs=args.epochs)
        # supervised linear ceiling of the same inputs (uses propensity; for comparison only)
        X = {k: describe(samples[k].system, base)[A[k]] for k in TRAIN + TEST}
        ceiling = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(
            np.vstack([X[k] for k in TRAIN]), np.concatenate([samples[k].propensity[A[k]] for k in TRAIN]))
        _row(f"supervised: ridge on q̄1..8 ({text})",
             [_pearson(ceiling.predict(X[k]), samples[k].propensity[A[k]]) for k in TEST])
        times = []
        for seed in args.seeds:
            recipe = dataclasses.replace(base, random_state=seed)
            model = fit_unsupervised([samples[k].system for k in TRAIN], recipe)
            times.append(model.fit_seconds)
            r = [_pearson(model.probability(samples[k].system)[A[k]], samples[k].propensity[A[k]])
                 for k in TEST]
            drive = " ".join(f"{v:+.2f}" for v in model.input_probability_correlation)
            _row(f"unsupervised P ({text}, seed {seed})", r,
                 f"fit {model.fit_seconds:5.1f} s, weights {np.round(model.cluster_weights, 2)}, "
                 f"FVE {model.fve:.2f}, r(q̄_l, P) {drive}")
        print(f"  median fit time ({text}, A particles, {model.n_train} particles): "
              f"{statistics.median(times):.1f} s")
        if args.all_species:
            start = time.perf_counter()
            model = fit_unsupervised([samples[k].system for k in TRAIN],
                                     UnsupervisedRecipe(neighbors=nb, epochs=args.epochs))
            seconds = time.perf_counter() - start
            p = {k: model.probability(samples[k].system) for k in TEST}
            _row(f"unsupervised species-blind ({text}): A", [_pearson(p[k][A[k]], samples[k].propensity[A[k]])
                                                              for k in TEST], f"fit {seconds:.1f} s")
            _row(f"unsupervised species-blind ({text}): all", [_pearson(p[k], samples[k].propensity)
                                                                for k in TEST])


if __name__ == "__main__":
    main()
