"""Benchmark of the liquid-vs-glass attention graph network against an RDF baseline.

Usage::

    python tests/benchmarks/bench_softness_phase.py                 # 3D and 2D, defaults
    python tests/benchmarks/bench_softness_phase.py --dims 3 --tasks thermal inherent

Prints, asserts nothing. Data: :func:`engine.analysis.softness.ka_md.liquid_glass_snapshots`
with the module's default :class:`QuenchProtocol` (liquid equilibrated at T = 1.0; glass cooled
linearly to T = 0.3 over 10 τ and held there 5 τ; same N, composition and density ρ = 1.2),
``--train`` seeds for training and ``--test`` further seeds, never trained on, for scoring,
``--per-seed`` liquid/glass pairs per seed. Task ``inherent`` (``--tasks``) takes the
inherent structures (local energy minima) of both classes, which removes the thermal
vibrations and leaves the configurational difference only.

For each task, in the same run:

* held-out accuracy of :class:`AttentionPhaseClassifier` (default settings, ``--nets`` training
  seeds: mean, min) and of :class:`RDFBaseline` (partial g(r) histograms, logistic regression);
* training seconds per epoch (median over epochs) and inference time per snapshot (median of
  ``--repeats`` calls on the test set; graph building included) on the CPU with one torch
  thread, and on CUDA when ``torch.cuda.is_available()``; the baseline's time per snapshot;
* what the attention looks at: ``max·N`` (largest weight over the uniform 1/N; 1 = uniform),
  the share of B particles among the 10 % most-attended particles (their share overall in
  brackets) and the Spearman correlation of the weights with each particle's potential energy
  (pair sum, ε), for liquids and glasses separately.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from engine.analysis.softness.ka_md import (
    QuenchProtocol, kob_andersen_2d, kob_andersen_3d, liquid_glass_snapshots,
)
from engine.analysis.softness.phase_classifier import AttentionPhaseClassifier, RDFBaseline


def particle_energy(system) -> np.ndarray:
    """Potential energy of each particle, half its pair energies (ε), shape (N,)."""
    pos, L = system.positions, float(system.box.Lx)
    kind = (system.species == "B").astype(int)
    eps = np.array([[1.0, 1.5], [1.5, 0.5]])[kind[:, None], kind[None, :]]
    sig = np.array([[1.0, 0.8], [0.8, 0.88]])[kind[:, None], kind[None, :]]
    d = pos[:, None, :] - pos[None, :, :]
    r = np.linalg.norm(d - L * np.round(d / L), axis=2)
    np.fill_diagonal(r, np.inf)
    lj = 4 * eps * ((sig / r) ** 12 - (sig / r) ** 6) - 4 * eps * (2.5**-12 - 2.5**-6)
    return 0.5 * np.where(r < 2.5 * sig, lj, 0.0).sum(axis=1)


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def attention_summary(model, systems, labels) -> str:
    _, weights = model.predict_with_attention(systems)
    parts = []
    for phase in ("liquid", "glass"):
        rows = [k for k, y in enumerate(labels) if y == phase]
        peak = np.mean([weights[k].max() * len(weights[k]) for k in rows])
        top_b, all_b, rho = [], [], []
        for k in rows:
            a, s = weights[k], systems[k]
            top = np.argsort(a)[::-1][: max(1, len(a) // 10)]
            top_b.append(np.mean(s.species[top] == "B"))
            all_b.append(np.mean(s.species == "B"))
            rho.append(spearmanr(a, particle_energy(s))[0])
        parts.append(f"{phase}: max·N {peak:.2f}, B in top 10 % {np.mean(top_b):.2f} "
                     f"({np.mean(all_b):.2f}), Spearman(a, u_i) {np.mean(rho):+.2f}")
    return "; ".join(parts)


def run_task(name: str, data, train_seeds, test_seeds, args) -> None:
    train = np.isin(data.seeds, train_seeds)
    test = np.isin(data.seeds, test_seeds)
    tr_sys, tr_y = list(data.subset(train).systems), data.labels[train]
    te_sys, te_y = list(data.subset(test).systems), data.labels[test]
    u = {p: data.potential_energy[data.labels == p].mean() for p in ("liquid", "glass")}
    print(f"\n== {name}: {len(tr_sys)} training / {len(te_sys)} test snapshots of "
          f"N = {tr_sys[0].n_particles}; generated in {data.seconds:.1f} s; "
          f"U/N liquid {u['liquid']:.3f}, glass {u['glass']:.3f} ε")

    start = time.perf_counter()
    baseline = RDFBaseline().fit(tr_sys, tr_y)
    base_fit = time.perf_counter() - start
    base_acc = float(np.mean(baseline.predict(te_sys) == te_y))
    base_infer = median_seconds(lambda: baseline.predict(te_sys), args.repeats) / len(te_sys)

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    infer_time = {}
    for device in devices:
        accs, epoch_s, fits = [], [], []
        model = None
        for net_seed in range(args.nets):
            m = AttentionPhaseClassifier(random_state=net_seed, device=device).fit(tr_sys, tr_y)
            accs.append(float(np.mean(m.predict(te_sys) == te_y)))
            epoch_s.append(float(np.median(m.training_record_["epoch_seconds"])))
            fits.append(m.training_record_["seconds"])
            model = model or m
        infer = median_seconds(lambda: model.predict(te_sys), args.repeats) / len(te_sys)
        infer_time[device] = infer
        print(f"[{device}] attention GNN: held-out accuracy mean {np.mean(accs):.3f} "
              f"(min {np.min(accs):.3f}, {args.nets} seeds); training {np.median(fits):.1f} s, "
              f"{np.median(epoch_s):.3f} s/epoch; inference {1e3 * infer:.1f} ms/snapshot")
        if device == "cpu":
            print(f"       attention: {attention_summary(model, te_sys, te_y)}")
    print(f"[cpu] RDF + logistic baseline: held-out accuracy {base_acc:.3f}; fit {base_fit:.2f} s; "
          f"inference {1e3 * base_infer:.1f} ms/snapshot; GNN / baseline inference time "
          f"(cpu) {infer_time['cpu'] / base_infer:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[3, 2])
    parser.add_argument("--train", type=int, default=6, help="training seeds")
    parser.add_argument("--test", type=int, default=4, help="test seeds")
    parser.add_argument("--per-seed", type=int, default=4)
    parser.add_argument("--n-particles", type=int, default=200)
    parser.add_argument("--nets", type=int, default=3, help="network training seeds")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tasks", nargs="+", choices=["thermal", "inherent"], default=["thermal"],
                        help="thermal snapshots and/or inherent structures")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = list(range(args.train + args.test))
    train_seeds, test_seeds = seeds[: args.train], seeds[args.train:]
    for dim in args.dims:
        mixture = kob_andersen_3d() if dim == 3 else kob_andersen_2d()
        protocols = {"thermal": QuenchProtocol(), "inherent": QuenchProtocol(minimize=True)}
        for label in args.tasks:
            protocol = protocols[label]
            data = liquid_glass_snapshots(seeds, mixture=mixture, n_particles=args.n_particles,
                                          per_seed=args.per_seed, protocol=protocol)
            run_task(f"{dim}D KA ({mixture.fraction_b:.0%} B), {label}", data, train_seeds,
                     test_seeds, args)


if __name__ == "__main__":
    main()
