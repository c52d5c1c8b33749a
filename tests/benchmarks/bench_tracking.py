"""Benchmark of holographic particle tracking (issue 13): speed of each step.

Usage::

    python tests/benchmarks/bench_tracking.py [--repeats 15] [--frame]

Microscope of the issue: λ = 0.447 µm, 0.048 µm/px, n_m = 1.34; spheres n_p = 1.5 at
z_p = 15 µm, centred in the crop (off the pixel grid). Figures are medians of ``--repeats`` runs
on one process (set ``OMP_NUM_THREADS`` etc. yourself to pin threads):

* ``forward model`` — holograms per second of :func:`engine.analysis.tracking.hologram` on a
  201×201 crop, for a_p = 0.5, 1 and 2 µm (n_max 20, 32, 54), in HoloPy's convention (default)
  and with the full field, and the per-pixel series (``exact=True``) as the baseline measured in
  the same run (ratio printed; largest difference between the two printed too);
* ``--frame`` adds seconds per 1024×1280 frame with 4 particles (:func:`.synthetic_frame`);
* ``tracks`` — tracks per second of the tracks analysis on 1000 simulated tracks × 200 frames
  (two free populations and a trapped one): MSD (all lags), per-track D (Michalet's number of
  points), features, clustering (Ward; gap statistic with 20 reference sets, BIC), and the whole
  :func:`.tracks.analyse_tracks` (checks, all of these, per-cluster summary).

* ``detection`` — frames per second of the shipped CNN detector (:func:`.cnn_detector.locate_cnn`:
  network, ring-coherence centres, crop sizes; on CUDA too when available) and of
  :func:`.detection.locate_rings` (orientation alignment transform, side-maximum checks, crop
  sizes) on 1024×1280 frames with 4 particles, against ``trackpy.locate`` on the same frames
  (FN/FP figures: ``bench_tracking_detection.py``);
* ``refinement`` — seconds per fit of :func:`.refine.refine` on a 201×201 crop (5 % noise,
  one particle per a_p = 0.5, 1, 2 µm, n_p = 1.5, z = 15 µm, started from a_p +5 %, n_p −0.02,
  z +3 %, x, y +1.5 px), median of ``--repeats`` fits on one process, next to the issue's bar
  (≤ 0.5 s on one core): with the valley search (default), a single Levenberg–Marquardt run
  (``search=0``), and the single run on 10 % of the pixels.

* ``estimator`` — particles per second of the SVR estimator (:mod:`.svr_estimator`, Yevick et
  al. 2014; trained on 1500 model profiles, seed 0): radial profiles of a batch of 512 noisy
  201×201 crops (exact centres) plus the three regressions, and the regressions alone, next to
  the issue's goals (≥ 1000 particles/s on CPU, ≥ 1000× faster than refinement: the ratio of the
  seconds per refinement fit, a_p = 1 µm crop as above, to the seconds per estimate).

* ``estimator (CNN)`` — particles per second of the shipped CNN estimator (:mod:`.cnn_estimator`,
  after CATCH, Altman & Grier 2020) on the same batch: the whole call (201-px windows cut about
  each centre, 3×3 block means, network in batches of 128) and the network alone, on the CPU
  with torch's thread count as set (printed), and on CUDA when ``torch.cuda.is_available()``
  (whole call, inputs copied to the device); each with its ratio to the refinement fit above.

Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch

from engine.analysis.tracking import Instrument, Sphere, hologram, series_length, synthetic_frame
from engine.analysis.tracking.cnn_detector import load_shipped_detector
from engine.analysis.tracking.cnn_estimator import load_shipped_estimator, network_input
from engine.analysis.tracking.detection import locate_rings, locate_trackpy
from engine.analysis.tracking.refine import refine
from engine.analysis.tracking.svr_estimator import SVREstimator, radial_profile, training_set
from engine.analysis.tracking.tracks import (Population, analyse_tracks, cluster_tracks, fit_diffusion,
                                             simulate_tracks, track_features, track_msd)

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)
CROP = (201, 201)


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls after one warm-up, seconds."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward_model(repeats: int) -> None:
    print(f"forward model: {CROP[0]}×{CROP[1]} crop, holograms per second (median of {repeats})")
    print(f"{'a_p µm':>7} {'n_max':>5} {'default':>9} {'full field':>10} {'per-pixel':>9} {'speed-up':>8} "
          f"{'max |diff|':>10}")
    for a_p in (0.5, 1.0, 2.0):
        sphere = Sphere(100.3, 100.6, 15.0, a_p, 1.5)
        n_max = series_length(MICROSCOPE.wavenumber * a_p)
        fast = median_seconds(lambda: hologram(CROP, sphere, MICROSCOPE), repeats)
        full = median_seconds(lambda: hologram(CROP, sphere, MICROSCOPE, full_field=True), repeats)
        exact = median_seconds(lambda: hologram(CROP, sphere, MICROSCOPE, exact=True), max(3, repeats // 3))
        diff = np.max(np.abs(hologram(CROP, sphere, MICROSCOPE) - hologram(CROP, sphere, MICROSCOPE, exact=True)))
        print(f"{a_p:7.1f} {n_max:5d} {1 / fast:9.1f} {1 / full:10.1f} {1 / exact:9.1f} {exact / fast:7.1f}x "
              f"{diff:10.1e}")


def full_frame(repeats: int) -> None:
    seconds = median_seconds(lambda: synthetic_frame((1024, 1280), MICROSCOPE, particles=(4, 4), seed=0),
                             max(1, repeats // 5))
    print(f"synthetic 1024×1280 frame, 4 particles: {seconds:.2f} s per frame")


def detection(repeats: int) -> None:
    warnings.filterwarnings("ignore", module="trackpy")       # its pandas deprecation notices
    images = [synthetic_frame((1024, 1280), MICROSCOPE, particles=(4, 4), seed=seed)[0] for seed in range(2)]
    runs = max(1, repeats // 5)
    classical = statistics.median(median_seconds(lambda image=image: locate_rings(image), runs) for image in images)
    baseline = statistics.median(median_seconds(lambda image=image: locate_trackpy(image, diameter=61), runs)
                                 for image in images)
    cnn = load_shipped_detector()
    learned = statistics.median(median_seconds(lambda image=image: cnn.locate(image), runs) for image in images)
    print(f"detection: 1024×1280 frames, 4 particles, frames per second (median of {runs} × {len(images)} frames)")
    print(f"{'CNN (CPU)':>10} {1 / learned:8.2f}   classical {1 / classical:8.2f}   trackpy.locate {1 / baseline:8.2f}")
    if torch.cuda.is_available():
        on_gpu = load_shipped_detector("cuda")
        gpu = statistics.median(median_seconds(lambda image=image: on_gpu.locate(image), runs) for image in images)
        print(f"{'CNN (CUDA)':>10} {1 / gpu:8.2f}   (network on the GPU, ring-coherence centres on the CPU)")


def refinement(repeats: int) -> None:
    rng = np.random.default_rng(0)
    runs = max(3, repeats // 3)
    print(f"refinement: 201×201 crop, seconds per fit (median of {runs}), issue bar ≤ 0.5 s on one core")
    print(f"{'a_p µm':>7} {'search':>8} {'single':>8} {'10 % px':>8} {'evaluations':>11}")
    for a_p in (0.5, 1.0, 2.0):
        truth = Sphere(100.3, 100.6, 15.0, a_p, 1.5)
        image = hologram(CROP, truth, MICROSCOPE) + rng.normal(0, 0.05, CROP)
        start = dict(x=101.8, y=102.1, z=15.45, a_p=1.05 * a_p, n_p=1.48)
        searched = median_seconds(lambda: refine(image, start, MICROSCOPE), runs)
        single = median_seconds(lambda: refine(image, start, MICROSCOPE, search=0.0), runs)
        subset = median_seconds(lambda: refine(image, start, MICROSCOPE, search=0.0, fraction=0.1), runs)
        evaluations = refine(image, start, MICROSCOPE).n_evaluations
        print(f"{a_p:7.1f} {searched:8.3f} {single:8.3f} {subset:8.3f} {evaluations:11d}")


def estimator(repeats: int) -> None:
    rng = np.random.default_rng(0)
    svr = SVREstimator(instrument=MICROSCOPE).fit(*training_set(1500, MICROSCOPE, seed=0))
    distinct = [(hologram(CROP, Sphere(100.3, 100.6, z, a_p, n_p), MICROSCOPE) + rng.normal(0, 0.05, CROP))
                for a_p, n_p, z in zip(rng.uniform(0.4, 2, 16), rng.uniform(1.38, 1.8, 16), rng.uniform(10, 40, 16))]
    batch = np.stack(distinct * 32)                           # 512 crops (timing does not depend on content)
    centres = np.tile([100.3, 100.6], (len(batch), 1))
    profiles = radial_profile(batch, centres)
    runs = max(3, repeats // 3)
    whole = median_seconds(lambda: svr.predict_crops(batch, centres), runs) / len(batch)
    regression = median_seconds(lambda: svr.predict(profiles), runs) / len(batch)
    truth = Sphere(100.3, 100.6, 15.0, 1.0, 1.5)
    image = hologram(CROP, truth, MICROSCOPE) + rng.normal(0, 0.05, CROP)
    fit = median_seconds(lambda: refine(image, dict(x=101.8, y=102.1, z=15.45, a_p=1.05, n_p=1.48), MICROSCOPE),
                         runs)
    print(f"estimator (SVR, {sum(len(v) for v in svr.support_vectors_)} support vectors): batch of {len(batch)} "
          f"201×201 crops, particles per second (median of {runs}); goals ≥ 1000 /s, ≥ 1000× refinement")
    print(f"{'profile+SVR':>12} {1 / whole:9.0f} /s   SVR only {1 / regression:9.0f} /s   "
          f"refinement {fit:.3f} s per fit → estimator {fit / whole:7.0f}× faster")
    cnn = load_shipped_estimator()
    windows = network_input(batch, centres)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"estimator (CNN, {sum(p.numel() for p in cnn.network_.parameters())} weights): same batch, particles "
          f"per second (median of {runs}); CPU with {torch.get_num_threads()} torch thread(s)")
    for device in devices:
        whole = median_seconds(lambda: cnn.predict_crops(batch, centres, device=device), runs) / len(batch)
        network = median_seconds(lambda: cnn.predict(windows, device=device), runs) / len(batch)
        label = "CPU" if device == "cpu" else f"CUDA ({torch.cuda.get_device_name(0)})"
        print(f"{'windows+CNN':>12} {1 / whole:9.0f} /s   CNN only {1 / network:9.0f} /s   "
              f"refinement {fit:.3f} s per fit → estimator {fit / whole:7.0f}× faster   [{label}]")


def tracks(repeats: int) -> None:
    frame_interval = 0.01
    table = simulate_tracks([Population("slow", 334, 0.05), Population("fast", 333, 0.5),
                             Population("trapped", 333, 0.2, trap_variance=0.005)],
                            n_frames=200, frame_interval=frame_interval, sigma=0.02, seed=0)
    n = table["particle"].nunique()
    msd = track_msd(table, frame_interval)
    features = track_features(table, frame_interval, msd=msd)
    stages = {
        "MSD": lambda: track_msd(table, frame_interval),
        "D fit": lambda: fit_diffusion(msd),
        "features": lambda: track_features(table, frame_interval, msd=msd),
        "clustering": lambda: cluster_tracks(features),
        "all": lambda: analyse_tracks(table, frame_interval),
    }
    runs = max(3, repeats // 3)
    print(f"tracks: {n} tracks × 200 frames, tracks per second (median of {runs}); "
          f"{cluster_tracks(features).n_clusters} clusters found")
    for name, call in stages.items():
        print(f"{name:>10} {n / median_seconds(call, runs):10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--frame", action="store_true", help="also time a full 1024×1280 synthetic frame")
    args = parser.parse_args()
    forward_model(args.repeats)
    if args.frame:
        full_frame(args.repeats)
    detection(args.repeats)
    refinement(args.repeats)
    estimator(args.repeats)
    tracks(args.repeats)


if __name__ == "__main__":
    main()
