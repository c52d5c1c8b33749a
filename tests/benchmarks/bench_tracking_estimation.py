"""Estimation accuracy on held-out holograms (issue 13, must-show 3): CNN and SVR, same particles.

Usage::

    python tests/benchmarks/bench_tracking_estimation.py [--count 600] [--seed 1] [--model PATH] [--svr-train 1500]

Held-out particles: ``--count`` noisy 301×301 holograms (:func:`engine.analysis.tracking.hologram`,
5 % Gaussian noise, seeded), one sphere each near the middle (off the pixel grid by up to 3 px),
a_p 0.4–2 µm, n_p 1.38–1.8, z_p 10–40 µm (uniform), at 0.048 µm/px, λ = 0.447 µm, n_m = 1.34.
Both estimators see the same crops with the same centres, either exact or found by the
classical detector (:func:`.detection.locate_rings`, the detection nearest the middle).

* ``CNN`` — the shipped :mod:`.cnn_estimator` (or ``--model``);
* ``SVR shipped`` — the shipped SVR (:mod:`.svr_shipped`: 3000 profiles, C = 100);
* ``SVR 1500`` — :class:`.svr_estimator.SVREstimator` trained on ``--svr-train`` model profiles
  (seed 0, C = 10), as in ``tests/test_analysis_tracking_svr.py``.

Printed: RMSE of a_p (µm), n_p, z_p (µm and px) and the 95th percentile of the absolute errors,
next to CATCH's published figures (Altman & Grier 2020: 0.23 µm, 0.13, 47 px). Asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from engine.analysis.tracking import Instrument, Sphere, hologram
from engine.analysis.tracking.cnn_estimator import load_cnn_estimator, load_shipped_estimator
from engine.analysis.tracking.detection import locate_rings
from engine.analysis.tracking.svr_estimator import SVREstimator, training_set
from engine.analysis.tracking.svr_shipped import shipped_estimator

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)
SIDE = 301
CATCH = {"a_p": 0.23, "n_p": 0.13, "z_px": 47.0}


def held_out(count: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Noisy crops with one sphere near the middle, and the truth (x, y px; a_p, n_p, z_p)."""
    rng = np.random.default_rng(seed)
    crops, rows = np.empty((count, SIDE, SIDE), dtype=np.float32), []
    for i in range(count):
        x, y = (SIDE - 1) / 2 + rng.uniform(-3, 3, 2)
        a_p, n_p, z_p = rng.uniform(0.4, 2.0), rng.uniform(1.38, 1.8), rng.uniform(10, 40)
        crops[i] = hologram((SIDE, SIDE), Sphere(x, y, z_p, a_p, n_p), MICROSCOPE) + rng.normal(0, 0.05, (SIDE, SIDE))
        rows.append((x, y, a_p, n_p, z_p))
    return crops, pd.DataFrame(rows, columns=["x", "y", "a_p", "n_p", "z_p"])


def detected_centres(crops: np.ndarray) -> np.ndarray:
    """The classical detection nearest the middle of each crop (the middle if none)."""
    centres = []
    for crop in crops:
        found = locate_rings(crop.astype(float))
        if len(found) == 0:
            centres.append(((SIDE - 1) / 2, (SIDE - 1) / 2))
            continue
        best = found.iloc[int(np.argmin(np.hypot(found.x - (SIDE - 1) / 2, found.y - (SIDE - 1) / 2)))]
        centres.append((best.x, best.y))
    return np.array(centres)


def scores(estimates: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """RMSE and 95th percentile of |error| per parameter (z also in px)."""
    out = {}
    for column in ("a_p", "n_p", "z_p"):
        error = np.abs(estimates[column].to_numpy() - truth[column].to_numpy())
        out[column] = float(np.sqrt(np.mean(error**2)))
        out[column + "_95"] = float(np.percentile(error, 95))
    out["z_px"] = out["z_p"] / MICROSCOPE.magnification
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default=None, help="a saved CNN estimator (default: the shipped one)")
    parser.add_argument("--svr-train", type=int, default=1500)
    args = parser.parse_args()
    start = time.perf_counter()
    crops, truth = held_out(args.count, args.seed)
    print(f"{args.count} held-out 301×301 holograms, 5 % noise ({time.perf_counter() - start:.0f} s)")
    start = time.perf_counter()
    found = detected_centres(crops)
    offset = np.hypot(found[:, 0] - truth.x, found[:, 1] - truth.y)
    print(f"classical detector: centre error RMS {np.sqrt(np.mean(offset**2)):.2f} px, "
          f"max {offset.max():.1f} px ({time.perf_counter() - start:.0f} s)")
    cnn = load_shipped_estimator() if args.model is None else load_cnn_estimator(args.model)
    svr = SVREstimator(instrument=MICROSCOPE).fit(*training_set(args.svr_train, MICROSCOPE, seed=0))
    exact = truth[["x", "y"]].to_numpy()
    print(f"{'estimator':>11} {'centres':>9} {'a_p µm':>8} {'n_p':>7} {'z_p µm':>7} {'z_p px':>7}   "
          f"95th pct |error|: {'a_p':>6} {'n_p':>6} {'z_p µm':>6}")
    print(f"{'CATCH':>11} {'(paper)':>9} {CATCH['a_p']:8.3f} {CATCH['n_p']:7.3f} "
          f"{CATCH['z_px'] * MICROSCOPE.magnification:7.2f} {CATCH['z_px']:7.1f}")
    for name, estimator in (("CNN", cnn), ("SVR shipped", shipped_estimator()), (f"SVR {args.svr_train}", svr)):
        for label, centres in (("exact", exact), ("detected", found)):
            s = scores(estimator.predict_crops(crops, centres), truth)
            print(f"{name:>11} {label:>9} {s['a_p']:8.3f} {s['n_p']:7.3f} {s['z_p']:7.2f} {s['z_px']:7.1f}   "
                  f"{'':17} {s['a_p_95']:6.3f} {s['n_p_95']:6.3f} {s['z_p_95']:6.2f}")


if __name__ == "__main__":
    main()
