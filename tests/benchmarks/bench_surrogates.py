"""Benchmark of the surrogates: spinodoid training time, CNN ranking throughput, FEM label time.

Usage::

    python tests/benchmarks/bench_surrogates.py            # full: published recipe (200 epochs)
    python tests/benchmarks/bench_surrogates.py --quick    # fewer epochs, for a smoke run

Prints figures (median of several runs where timing is involved); asserts nothing.
Goal: >= 1e5 designs/s CNN ranking for 8x8 grids on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from engine.runtime.device import cuda_available
from engine.surrogates import (
    GridCNNClassifier,
    GridLinearClassifier,
    SpinodoidEquivariantNet,
    SpinodoidPublishedNet,
    STIFFNESS_COMPONENTS,
    load_kumar2020,
    train_test_split_indices,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "spinodoids" / "kumar2020_data.csv"


#: Forward test R² implied by the loss histories shipped with the code release of Kumar, Tan, Zheng
#: & Kochmann, npj Comput. Mater. 6, 73 (2020) (their recipe: random 90/10 split, Adam 1e-4,
#: batch 64, 200 epochs).
PUBLISHED_R2 = 0.997


def bench_spinodoid(devices: list[str], quick: bool) -> None:
    """Both forward nets on one split: the published net at its own recipe, ours at its defaults."""
    X, Y = load_kumar2020(DATA)
    tr, te = train_test_split_indices(len(X), 0.1, seed=0)
    epochs_pub = 20 if quick else 200
    recipe = f"Adam 1e-4, batch 64, {epochs_pub} epochs" + (" (--quick: NOT the published 200)" if quick else " (published recipe)")
    print(f"\n== spinodoid forward nets (Kumar 2020 data, {len(tr)} train / {len(te)} test, seed 0) ==")
    print(f"published : 4-128-128-64-64-32-32-9 ReLU, {recipe}")
    print("equivariant: ours, constructor defaults (Adam 3e-3, batch 256, cosine, <= 40 epochs)")
    print(f"reference : forward test R2 ~ {PUBLISHED_R2} implied by the authors' shipped loss histories")
    for device in devices:
        r2, info = {}, {}
        for name, model in (
            ("published", SpinodoidPublishedNet(max_epochs=epochs_pub, random_state=0, device=device)),
            ("equivariant", SpinodoidEquivariantNet(random_state=0, device=device)),
        ):
            t0 = time.perf_counter()
            model.fit(X[tr], Y[tr])
            info[name] = (time.perf_counter() - t0, model.n_epochs_)
            r2[name] = model.score_per_component(X[te], Y[te])
        print(f"[{device}] held-out R2 per component")
        print(f"   {'component':>9} {'published':>10} {'equivariant':>12}")
        for i, c in enumerate(STIFFNESS_COMPONENTS):
            print(f"   {c:>9} {r2['published'][i]:10.5f} {r2['equivariant'][i]:12.5f}")
        print(f"   {'min':>9} {r2['published'].min():10.5f} {r2['equivariant'].min():12.5f}")
        print(f"   {'mean':>9} {r2['published'].mean():10.5f} {r2['equivariant'].mean():12.5f}")
        print("   " + "; ".join(f"{k}: train {t:.1f} s, {n} epochs" for k, (t, n) in info.items()))


def _throughput(model, grids: np.ndarray, repeats: int = 5) -> float:
    model.rank_scores(grids[:1000])  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.rank_scores(grids)
        times.append(time.perf_counter() - t0)
    return len(grids) / statistics.median(times)


def bench_ranking(devices: list[str], n: int) -> None:
    print(f"\n== ranking throughput (designs/s, median of 5 runs over {n} random designs) ==")
    rng = np.random.default_rng(0)
    for size in (8, 16):
        train = rng.integers(0, 2, (64, size, size))
        labels = np.arange(64) % 2
        grids = rng.integers(0, 2, (n, size, size))
        for device in devices:
            cnn = GridCNNClassifier(max_epochs=1, random_state=0, device=device).fit(train, labels)
            lin = GridLinearClassifier(max_epochs=1, random_state=0, device=device).fit(train, labels)
            t_cnn, t_lin = _throughput(cnn, grids), _throughput(lin, grids)
            print(f"[{device}] {size}x{size}: CNN {t_cnn:,.0f} designs/s; linear {t_lin:,.0f} designs/s (CNN/linear {t_cnn / t_lin:.2f})")


def bench_fem(n: int) -> None:
    from designs.checkerboard import Checkerboard
    from fem import fracture

    print(f"\n== FEM label time for comparison (fast fidelity, median of {n} random 8x8 designs) ==")
    rng = np.random.default_rng(0)
    for epb in (4, 8):
        times = []
        for _ in range(n):
            cb = Checkerboard.random(8, soft_fraction=float(rng.uniform(0.2, 0.8)), seed=rng)
            t0 = time.perf_counter()
            # a coarse mesh must still resolve ℓ (h <= ℓ/2): ℓ does not change a fast label
            fracture.label(cb, "fast", elements_per_block=epb, ell=2.0 / (8 * epb))
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(f"fast fidelity, {epb} elements/block: {med * 1e3:.1f} ms/label ({1 / med:,.1f} labels/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer epochs for the published net")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if cuda_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, devices: {devices}")
    if not args.skip_training:
        bench_spinodoid(devices, args.quick)
    bench_ranking(devices, 200_000)
    bench_fem(10)


if __name__ == "__main__":
    main()
