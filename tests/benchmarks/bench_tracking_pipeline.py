"""Benchmark of the whole hologram pipeline (issue 13): detection → estimate → refinement per frame.

Usage::

    python tests/benchmarks/bench_tracking_pipeline.py [--frames 12] [--shape 1024x1280] [--particles 0-4]
        [--no-neighbours] [--no-index-starts] [--detector auto] [--estimator auto] [--seed 100]

Held-out synthetic frames of the issue (default 1024×1280 px, 0–4 particles, 5 % noise,
a_p 0.4–2 µm, n_p 1.38–1.8, z_p 10–40 µm at 0.048 µm/px, λ = 0.447 µm, n_m = 1.34; seed 100, not a training
seed), characterised by :func:`engine.analysis.tracking.pipeline.characterise_frame` with default
options (``auto``: the shipped CNN detector and estimator for this microscope) or the methods given,
scored by :func:`.pipeline.compare_with_truth`. Prints per frame the particles, misses, false
detections, fits inside the issue's tolerances (a_p 1 %, n_p 0.005, z 1 %) and the seconds of each
step; then the totals: the share of true particles found and fitted within the tolerances, the RMSE
after the fit and of the estimates, and the median seconds per frame and per fit. One process; pin
threads yourself (``OMP_NUM_THREADS=1``). Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from engine.analysis.tracking import Instrument, synthetic_frames
from engine.analysis.tracking.pipeline import DETECTORS, ESTIMATORS, PipelineOptions, Timing, characterise_frame, \
    compare_with_truth

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--shape", default="1024x1280")
    parser.add_argument("--particles", default="0-4")
    parser.add_argument("--no-neighbours", dest="neighbours", action="store_false")
    parser.add_argument("--no-index-starts", dest="index_starts", action="store_false")
    parser.add_argument("--detector", choices=("auto", *DETECTORS), default="auto")
    parser.add_argument("--estimator", choices=("auto", *ESTIMATORS), default="auto")
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    shape = tuple(int(v) for v in args.shape.split("x"))
    low, _, high = args.particles.partition("-")
    particles = (int(low), int(high or low))
    images, truth = synthetic_frames(args.frames, shape, MICROSCOPE, particles=particles, seed=args.seed)
    options = PipelineOptions(neighbours=args.neighbours, index_starts=args.index_starts, detector=args.detector,
                              estimator=args.estimator)
    print(f"{args.frames} frames {shape[0]}×{shape[1]} px, {particles[0]}–{particles[1]} particles, 5 % noise, seed "
          f"{args.seed}; detector {args.detector}, estimator {args.estimator}, neighbours "
          f"{'on' if args.neighbours else 'off'}, index starts {'on' if args.index_starts else 'off'}")
    print(f"{'frame':>5} {'true':>4} {'found':>5} {'missed':>6} {'false':>5} {'within':>6} {'detect s':>8} "
          f"{'fit s':>6} {'total s':>7}")
    totals = {"particles": 0, "missed": 0, "false": 0, "within": 0}
    errors: dict[str, list[float]] = {"a_p": [], "n_p": [], "z": [], "a_p_estimate": [], "n_p_estimate": [],
                                      "z_estimate": []}
    counts: dict[str, int] = {}
    seconds, per_fit = [], []
    for k, image in enumerate(images):
        timing = Timing()
        start = time.perf_counter()
        table = characterise_frame(image, MICROSCOPE, options, timing=timing)
        if k == 0:
            print("methods: " + "; ".join(note for note in timing.notes if note.startswith(("detector", "estimator"))))
        elapsed = time.perf_counter() - start
        true = truth[truth["frame"] == k].reset_index(drop=True)
        scores = compare_with_truth(table, true)
        for key in totals:
            totals[key] += scores[key]
        for name in ("a_p", "n_p", "z"):                 # squared errors summed, with their counts
            for source, key, count in ((scores["rmse"], name, scores["fitted"]),
                                       (scores["estimate_rmse"], f"{name}_estimate", scores["matched"])):
                if count and np.isfinite(source[name]):
                    errors[key].append(source[name] ** 2 * count)
                    counts[key] = counts.get(key, 0) + count
        seconds.append(elapsed)
        if timing.fits:
            per_fit.append(timing.refinement / timing.fits)
        print(f"{k:>5} {len(true):>4} {len(table):>5} {scores['missed']:>6} {scores['false']:>5} {scores['within']:>6} "
              f"{timing.detection:8.2f} {timing.refinement:6.1f} {elapsed:7.1f}")
    n = totals["particles"]
    print(f"true particles {n}: missed {totals['missed']}, false detections {totals['false']}, within a_p 1 %, "
          f"n_p 0.005, z 1 %: {totals['within']} ({100 * totals['within'] / max(n, 1):.1f} %)")
    rmse = {k: float(np.sqrt(sum(v) / counts[k])) if counts.get(k) else float("nan") for k, v in errors.items()}
    print(f"RMSE after the fit: a_p {rmse['a_p']:.4f} µm, n_p {rmse['n_p']:.4f}, z {rmse['z']:.4f} µm; estimates: "
          f"a_p {rmse['a_p_estimate']:.3f} µm, n_p {rmse['n_p_estimate']:.3f}, z {rmse['z_estimate']:.2f} µm")
    print(f"seconds per frame: median {statistics.median(seconds):.1f}, max {max(seconds):.1f}; seconds per fit: "
          f"median {statistics.median(per_fit) if per_fit else float('nan'):.2f} (two passes with neighbours on; each "
          "start of a fit counts as one fit)")


if __name__ == "__main__":
    main()
