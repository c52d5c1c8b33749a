"""Compare our homogenised spinodoid stiffness with Kumar et al. (2020), npj Comput. Mater. 6, 73.

Draws parameter sets from tests/data/spinodoids/kumar2020_data.csv stratified over the seven
cone combinations (one, two, three open cones) and the density range, builds the published
geometry (free wave directions, β = 10π, N = 1000, E = 1, ν = 0.3) and prints, per row, the
published and our C11, C22, C33 under affine and periodic boundary conditions, then the
median relative errors, the softest-axis agreement (rows whose published max/min of
C11..C33 exceeds 1.1) and the scatter between realisations (seeds) at fixed parameters.

Usage: python tests/benchmarks/compare_kumar2020.py [--per-group 6] [--resolution 32]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from designs.spinodal import Spinodoid
from fem.homogenize import homogenize

DATA = Path(__file__).resolve().parents[1] / "data" / "spinodoids" / "kumar2020_data.csv"
GROUPS = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1), "xy": (1, 1, 0), "xz": (1, 0, 1),
          "yz": (0, 1, 1), "xyz": (1, 1, 1)}


def load_rows() -> list[dict[str, float]]:
    """All rows of the published data set as dicts of floats."""
    with open(DATA, newline="") as fh:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def pick(rows: list[dict[str, float]], per_group: int, seed: int) -> list[dict[str, float]]:
    """``per_group`` rows per cone combination, spread over density (sorted, evenly spaced)."""
    rng = np.random.default_rng(seed)
    out = []
    for open_ in GROUPS.values():
        grp = [r for r in rows
               if tuple(int(r[k] > 0) for k in ("thetaX", "thetaY", "thetaZ")) == open_]
        grp.sort(key=lambda r: r["volFrac"])
        edges = np.linspace(0, len(grp), per_group + 1).astype(int)
        for a, b in zip(edges[:-1], edges[1:]):
            out.append(grp[int(rng.integers(a, b))])
    return out


def ours(row: dict[str, float], resolution: int, bc: str, seed: int = 0) -> np.ndarray | None:
    """Our (C11, C22, C33) for a published row, or None when the solve failed."""
    s = Spinodoid(rho=row["volFrac"], theta=(row["thetaX"], row["thetaY"], row["thetaZ"]),
                  seed=seed, periodic=False)
    h = homogenize(s.voxels(resolution), bc=bc)
    return np.diag(h.C)[:3].copy() if h.status == "ok" else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-group", type=int, default=6)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scatter-seeds", type=int, default=5)
    args = ap.parse_args()
    rows = pick(load_rows(), args.per_group, args.seed)
    print(f"Kumar 2020 comparison: {len(rows)} rows, resolution {args.resolution}^3, "
          "published geometry (beta = 10 pi, N = 1000), E = 1, nu = 0.3")
    hdr = (f"{'rho':>5} {'thx':>5} {'thy':>5} {'thz':>5} | {'pub C11':>7} {'C22':>6} {'C33':>6} | "
           f"{'aff C11':>7} {'C22':>6} {'C33':>6} | {'per C11':>7} {'C22':>6} {'C33':>6} | soft pub/aff/per")
    print(hdr)
    err = {"affine": [], "periodic": []}
    soft = {"affine": [], "periodic": []}
    t0 = time.perf_counter()
    for r in rows:
        pub = np.array([r["stiffness0"], r["stiffness7"], r["stiffness14"]])
        res = {bc: ours(r, args.resolution, bc) for bc in ("affine", "periodic")}
        line = (f"{r['volFrac']:5.3f} {r['thetaX']:5.1f} {r['thetaY']:5.1f} {r['thetaZ']:5.1f} | "
                f"{pub[0]:7.4f} {pub[1]:6.4f} {pub[2]:6.4f} |")
        marks = [str("xyz"[int(np.argmin(pub))])]
        for bc in ("affine", "periodic"):
            c = res[bc]
            if c is None:
                line += f" {'failed':>7} {'':>6} {'':>6} |"
                marks.append("-")
                continue
            line += f" {c[0]:7.4f} {c[1]:6.4f} {c[2]:6.4f} |"
            err[bc].extend(np.abs(c - pub) / pub)
            marks.append("xyz"[int(np.argmin(c))])
            if pub.max() / pub.min() > 1.1:
                soft[bc].append(int(np.argmin(c)) == int(np.argmin(pub)))
        print(line + " " + "/".join(marks), flush=True)
    for bc in ("affine", "periodic"):
        e = np.array(err[bc])
        print(f"{bc:8s}: median rel. error C11..C33 = {np.median(e):.3f} (n = {len(e)}), "
              f"mean = {e.mean():.3f}, 90th pct = {np.percentile(e, 90):.3f}; softest axis agrees "
              f"{sum(soft[bc])}/{len(soft[bc])} anisotropic rows")
    # realisation scatter at fixed parameters
    print(f"seed scatter ({args.scatter_seeds} seeds, affine, coefficient of variation of C11, C22, C33):")
    for rho, th in ((0.5, (90.0, 90.0, 90.0)), (0.5, (30.0, 0.0, 0.0)), (0.7, (20.0, 40.0, 0.0))):
        cs = np.array([ours({"volFrac": rho, "thetaX": th[0], "thetaY": th[1], "thetaZ": th[2]},
                            args.resolution, "affine", seed=s) for s in range(args.scatter_seeds)])
        cv = cs.std(axis=0, ddof=1) / cs.mean(axis=0)
        print(f"  rho={rho} theta={th}: mean {np.round(cs.mean(axis=0), 4)}, CV {np.round(cv, 3)}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
