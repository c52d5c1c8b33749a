"""Benchmark of crystal-order analysis: particles per second of every descriptor and classifier.

Usage::

    python tests/benchmarks/bench_ordering.py                 # 10^4 and 10^5 particles
    python tests/benchmarks/bench_ordering.py --sizes 10000   # one size only

System: ``fcc_hcp`` stackings (12 fcc + 12 hcp layers, Lindemann 0.05, seed 0) of about 10⁴
and 10⁵ particles, in LJ-like units (nearest-neighbour distance 1). Every figure is the median
of ``--repeats`` runs (default 3), in particles per second; the yardstick, measured in the same
run on the same particles, is freud's own Steinhardt q6 (12 nearest neighbours, neighbour query
included), and each line gives its time relative to it (``× freud``: how many freud q6 times
the step takes). Classifiers are timed on precomputed descriptors; their training is not timed
(the autoencoder and the mixture → net train on 10⁴ particles; the MLP on a small synthetic
set; the diffraction CNN is the shipped one). Diffraction images and the CNN are timed on 10⁴
of the particles (each image is of one particle's region), scaled to all of them. The
diffusion map is timed whole (dense kernel and eigenpairs of 4000 landmarks, Nyström extension
to every particle, mixture on the coordinates; see :mod:`engine.analysis.ordering.diffusion_map`).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import freud
import numpy as np
import torch

from engine.analysis.ordering import (
    bond_order_features, fcc_hcp, g2, g4, shell_counts, steinhardt,
)
from engine.analysis.ordering.autoencoder import DescriptorAutoencoder
from engine.analysis.ordering.coherence import bond_coherence
from engine.analysis.ordering.common_neighbours import common_neighbour_analysis
from engine.analysis.ordering.density_clusters import DescriptorDBSCAN
from engine.analysis.ordering.diffraction import diffraction_images
from engine.analysis.ordering.diffraction_cnn import load_shipped_cnn
from engine.analysis.ordering.diffusion_map import DiffusionMap
from engine.analysis.ordering.embedding import DescriptorEmbedding
from engine.analysis.ordering.mixture_model import DescriptorGMM
from engine.analysis.ordering.mixture_net import MixtureThenNet
from engine.analysis.ordering.supervised import BondOrderMLP, Q6Threshold, synthetic_training_set


def median_time(step: Callable[[], object], repeats: int) -> float:
    """Median wall time (s) of ``repeats`` calls of ``step``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def freud_q6(system) -> None:
    """freud alone: neighbour query + Steinhardt q6, the yardstick."""
    box, points = system.freud_system()
    freud.order.Steinhardt(6).compute((box, points), neighbors={"num_neighbors": 12})


def bench(
    n_target: int, repeats: int, mlp: BondOrderMLP, q6: Q6Threshold) -> None:
    n_cells = max(2, math.ceil(np.sqrt(n_target / 48)))  # 2 n² particles per layer, 24 layers
    system = fcc_hcp(n_cells, lindemann=0.05, seed=0)
    n = system.n_particles
    t_ref = median_time(lambda: freud_q6(system), repeats)
    print(f"\n== {n:,} particles (fcc_hcp, {n_cells} in-plane cells, 24 layers) ==")
    print(f"{'step':<44} {'particles/s':>14} {'x freud':>9}")

    def line(name: str, seconds: float) -> None:
        print(f"{name:<44} {n / seconds:>14,.0f} {seconds / t_ref:>9.2f}", flush=True)

    line("freud Steinhardt q6 (yardstick)", t_ref)
    descriptors: dict[str, Callable[[], np.ndarray]] = {
        "q_l (l=4,6,8; 12 nn)": lambda: steinhardt(system, (4, 6, 8)),
        "q_l (l=1..8; 12 nn)": lambda: steinhardt(system, range(1, 9)),
        "qbar_l (l=4,6,8; 12 nn)": lambda: steinhardt(system, (4, 6, 8), average=True),
        "w_l (l=4,6; 12 nn)": lambda: steinhardt(system, (4, 6), wl=True),
        "bond coherence d_6 (12 nn)": lambda: bond_coherence(system, (6,)),
        "bond coherence d_6, strongest 8 of 12": lambda: bond_coherence(system, (6,), strongest=8),
        "G2 (4 sets, r_c 1.6)": lambda: g2(system, eta=[1.0, 2.0, 4.0, 8.0], r_s=[0.0, 1.0, 1.0, 1.4],
                                           r_cut=1.6),
        "G4 (4 sets, r_c 1.2)": lambda: g4(system, eta=0.1, zeta=[1.0, 2.0, 4.0, 16.0],
                                           lam=[1.0, -1.0, 1.0, -1.0], r_cut=1.2),
        "shell counts (4 shells, relative)": lambda: shell_counts(
            system, [0.0, 1.2, 1.6, 1.9, 2.1], relative=True),
        "features (14 bond-order columns)": lambda: bond_order_features(system),
    }
    for name, step in descriptors.items():
        line(name, median_time(step, repeats))
    X = bond_order_features(system)
    Q = steinhardt(system, range(1, 9))
    line("MLP predict (14 features)", median_time(lambda: mlp.predict(X), repeats))
    line("q6 baseline predict", median_time(lambda: q6.predict(X), repeats))
    line("GMM fit + labels (K=2, q_1..8)",
         median_time(lambda: DescriptorGMM(2, random_state=0).fit(Q), repeats))
    line("DBSCAN fit (q_1..8, min_samples 100, q 0.95)",
         median_time(lambda: DescriptorDBSCAN().fit(Q), repeats))
    sub = np.random.default_rng(0).choice(n, size=min(n, 10_000), replace=False)
    encoder = DescriptorAutoencoder(2, n_components=2, epochs=20, random_state=0).fit(Q[sub])
    line("autoencoder encode (q_1..8 -> 2)", median_time(lambda: encoder.encode(Q), repeats))
    line("autoencoder encode + GMM labels", median_time(lambda: encoder.predict(Q), repeats))
    net = MixtureThenNet(2, random_state=0).fit(Q[sub])
    line("mixture -> net predict (q_1..8)", median_time(lambda: net.predict(Q), repeats))
    line("common-neighbour analysis (adaptive)", median_time(lambda: common_neighbour_analysis(system), repeats))
    cnn, settings = load_shipped_cnn()
    images = diffraction_images(system, settings, particles=sub)
    line(f"diffraction images ({len(sub):,} particles)",
         median_time(lambda: diffraction_images(system, settings, particles=sub), repeats) * n / len(sub))
    line(f"diffraction CNN predict ({len(sub):,} images)",
         median_time(lambda: cnn.predict(images), repeats) * n / len(sub))
    line("UMAP fit + GMM labels (q_1..8, K=2)",
         median_time(lambda: DescriptorEmbedding(2, random_state=0).fit(Q), repeats))
    line("diffusion map fit (q_1..8, 4000 landmarks)",
         median_time(lambda: DiffusionMap(2, n_components=2).fit(Q), repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"freud {freud.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{os.cpu_count()} CPUs; median of {args.repeats} runs; load average before the run "
          f"{os.getloadavg()[0]:.1f} (other processes share the CPUs)")
    X, y = synthetic_training_set([0.0, 0.05, 0.1], cells=3, liquid_particles=300, seed=0)
    mlp, q6 = BondOrderMLP(random_state=0).fit(X, y), Q6Threshold().fit(X, y)
    for size in args.sizes:
        bench(size, args.repeats, mlp, q6)


if __name__ == "__main__":
    main()
