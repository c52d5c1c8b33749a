"""``matloop track tracks|simulate``: diffusion and populations of particle tracks.

(``holograms`` and ``generate-holograms``, particles characterised in hologram frames, live in
:mod:`engine.cli.track_holograms`.)

``tracks`` reads a CSV of positions (``frame, x, y[, particle]``; without ``particle`` the
detections are linked with trackpy, ``--link``), measures the MSD and diffusion coefficient of every
track (Michalet 2010), clusters the tracks into populations by their step statistics (Ward
linkage, number of clusters from the data: :mod:`engine.analysis.tracking.tracks.clustering`),
prints one line per cluster and the reason for the number of clusters, and writes one row per
track with ``--csv``. ``simulate`` writes a seeded example file with three known populations.
The analysis modules (trackpy, scipy, scikit-learn) are imported only when a command runs.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from engine.cli.common import write_table
from engine.cli.track_holograms import register_actions

__all__ = ["register"]

#: Largest --max-clusters (the clustering tries every k up to it, each with 20 reference sets).
MAX_CLUSTERS = 20


def _frames(text: str) -> int | tuple[int, int]:
    """``N`` or ``LOW-HIGH`` positions per track."""
    low, dash, high = text.partition("-")
    try:
        value = (int(low), int(high)) if dash else int(low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH positions per track, got {text!r}") from None
    if (value if isinstance(value, int) else value[0]) < 5 or (dash and value[0] > value[1]):
        raise argparse.ArgumentTypeError(f"positions per track must be at least 5 (and LOW <= HIGH), got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("track", help="particle tracking: holograms (x, y, z, radius, index) and tracks "
                                   "(diffusion coefficients, populations)")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    tracks = actions.add_parser(
        "tracks", help="MSD, diffusion coefficient and populations of the tracks in a CSV file",
        description="FILE: CSV with a header line and columns frame, x, y (px, or µm with --pixel-size 1) and "
        "optionally particle (track id); without particle the detections are linked into tracks with trackpy "
        "(--link). Per track: time-averaged MSD, D from a line through Michalet's (2010) optimal number of MSD "
        "points, MSD exponent alpha and step statistics; tracks are clustered into populations by Ward linkage of "
        "log D, alpha and the gyration ratio (Valentine et al. 2001, Mellnik et al. 2014), the number of clusters "
        "from the gap statistic (1 when there is no structure) and the BIC.")
    tracks.add_argument("file", help="tracks CSV (frame, x, y[, particle])")
    tracks.add_argument("--pixel-size", dest="pixel_size", type=float,
                        help="µm per px: lengths in µm (default: lengths in px, as in the file)")
    tracks.add_argument("--frame-interval", dest="frame_interval", type=float,
                        help="time between frames, s (default: times in frames)")
    tracks.add_argument("--link", dest="search_range", type=float, metavar="SEARCH_RANGE",
                        help="files without a particle column: link detections, SEARCH_RANGE the largest move between "
                        "frames in px (the unit of x, y)")
    tracks.add_argument("--memory", type=int, help="with --link: frames a particle may go undetected (default 0)")
    tracks.add_argument("--min-points", dest="min_points", type=int, default=10,
                        help="tracks with fewer positions are measured but not clustered (at least 5; default 10)")
    tracks.add_argument("--max-lag", dest="max_lag", type=int,
                        help="largest MSD lag, frames (at least 10; default the longest track's span, or fewer where "
                        "tracks × lags would not fit in memory): D is fitted over the first lags only")
    tracks.add_argument("--max-clusters", dest="max_clusters", type=int, default=6,
                        help=f"most clusters considered, 2 to {MAX_CLUSTERS} (default 6)")
    tracks.add_argument("--seed", type=int, default=0, help="seed of the gap statistic's reference sets (default 0)")
    tracks.add_argument("--csv", help="write one row per track: particle, cluster, D, alpha, features (units in the "
                        "column names)")
    tracks.set_defaults(func=_tracks)

    simulate = actions.add_parser(
        "simulate", help="write a seeded example tracks file with three known populations",
        description="Two free populations (D = 0.05 and 0.5 µm²/s) and one diffusing (D = 0.2 µm²/s) in a "
        "harmonic trap (<x²> = 0.005 µm²), 20 nm localisation error, in a 50 µm field; positions in px. The "
        "'population' column holds the truth.")
    simulate.add_argument("--out", required=True, help="CSV file to write")
    simulate.add_argument("--tracks", dest="n_tracks", type=int, default=60, help="tracks per population (default 60)")
    simulate.add_argument("--frames", dest="n_frames", type=_frames, default=(50, 300),
                          help="positions per track: N, or LOW-HIGH drawn per track (default 50-300)")
    simulate.add_argument("--pixel-size", dest="pixel_size", type=float, default=0.1,
                          help="µm per px of the written positions (default 0.1)")
    simulate.add_argument("--frame-interval", dest="frame_interval", type=float, default=0.01,
                          help="time between frames, s (default 0.01)")
    simulate.add_argument("--sigma", type=float, default=0.02, help="localisation error per coordinate, µm "
                          "(default 0.02)")
    simulate.add_argument("--detections", action="store_true",
                          help="leave out the particle column: detections to link with --link")
    simulate.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    simulate.set_defaults(func=_simulate)
    register_actions(actions)


def _positive(value: float | None, flag: str, unit: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{flag} must be a finite number > 0 ({unit}), got {value:g}")


def _seed(seed: int) -> None:
    if seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {seed}")


def _output(path: str | None, source: str | None = None) -> Path | None:
    """The CSV to write, checked before any work is done."""
    if path is None:
        return None
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"cannot write {out}: it is a directory; give a file name ending in .csv")
    if out.suffix.lower() != ".csv":
        raise ValueError(f"cannot write {out}: give a file name ending in .csv")
    if not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: directory {out.parent} does not exist")
    if source is not None and out.resolve() == Path(source).resolve():
        raise ValueError(f"cannot write {out}: it is the input file; give another file name")
    try:  # found now, not after the analysis; a file that was not there is not left behind
        if out.exists():
            if not os.access(out, os.W_OK):
                raise PermissionError(13, "permission denied")
        else:
            with open(out, "x"):
                pass
            out.unlink()
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def _read(path: str):
    from engine.analysis.tracking.tracks import read_tracks

    file = Path(path)
    if not file.exists():
        raise ValueError(f"{path}: no such file")
    if file.is_dir():
        raise ValueError(f"{path}: is a directory; give a tracks CSV file")
    try:
        return read_tracks(file)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def _tracks(args: argparse.Namespace) -> int:
    from engine.analysis.tracking.tracks import analyse_tracks
    from engine.analysis.tracking.tracks.msd import MAX_MSD_VALUES
    from engine.analysis.tracking.tracks.report import CONFINED_ALPHA, cluster_choice, summary_table, track_table

    _positive(args.pixel_size, "--pixel-size", "µm per px")
    _positive(args.frame_interval, "--frame-interval", "s")
    _positive(args.search_range, "--link", "px, the largest move between frames")
    if args.memory is not None and args.memory < 0:
        raise ValueError(f"--memory must be an integer >= 0 (frames), got {args.memory}")
    if args.memory is not None and args.search_range is None:
        raise ValueError("--memory applies with --link (files without a particle column)")
    if args.min_points < 5:
        raise ValueError(f"--min-points must be at least 5 (positions), got {args.min_points}")
    _seed(args.seed)
    if not 2 <= args.max_clusters <= MAX_CLUSTERS:
        raise ValueError(f"--max-clusters must be 2 to {MAX_CLUSTERS}, got {args.max_clusters} (one cluster is always "
                         "considered: the gap statistic tests for structure first)")
    out = _output(args.csv, args.file)
    table = _read(args.file)
    linked = "particle" not in table.columns
    if linked and args.search_range is None:
        raise ValueError(f"{args.file} has no particle column: give --link SEARCH_RANGE (px, the largest move between "
                         "frames) and optionally --memory N to link the detections into tracks")
    if not linked and args.search_range is not None:
        raise ValueError(f"--link and --memory apply to files without a particle column; {args.file} has one "
                         "(its tracks are used as they are)")
    time_unit = "s" if args.frame_interval is not None else "frame"
    try:
        result = analyse_tracks(table, args.frame_interval or 1.0, pixel_size=args.pixel_size,
                                search_range=args.search_range, memory=args.memory or 0, min_points=args.min_points,
                                max_lag=args.max_lag, k_max=args.max_clusters, seed=args.seed)
    except ValueError as exc:
        message = str(exc)
        for name, flag in (("min_points", "--min-points"), ("search_range", "--link"), ("memory", "--memory"),
                           ("pixel_size", "--pixel-size"), ("max_lag", "--max-lag")):
            message = message.replace(name, flag)
        raise ValueError(f"{args.file}: {message}") from None
    unit = result.unit
    d_unit = f"{unit}²/{time_unit}"
    n_tracks = len(result.features)
    clustered = int((result.features["cluster"] >= 0).sum())
    frames = table["frame"]
    print(f"{args.file}: {len(table):,} positions, frames {frames.min()}–{frames.max()}, {n_tracks} tracks"
          + (f" (linked with search range {args.search_range:g} px, memory {args.memory or 0})" if linked else ""))
    scale = f"x, y × {args.pixel_size:g} µm/px" if args.pixel_size is not None else "x, y in px (no --pixel-size)"
    every = f"{args.frame_interval:g} s between frames" if args.frame_interval is not None else \
        "times in frames (no --frame-interval)"
    print(f"units: {scale}; {every}")
    last_lag, longest = int(result.msd.lags[-1]), int(result.msd.span.max())
    if last_lag < longest:
        print(f"MSD computed up to a lag of {last_lag:,} frames (the longest track spans {longest:,}; "
              + ("--max-lag" if args.max_lag is not None else f"tracks × lags are limited to {MAX_MSD_VALUES:,}")
              + "); the D fits read the first lags only")
    print(f"clustered {clustered} tracks with {args.min_points} or more positions"
          + (f" ({n_tracks - clustered} shorter or incomplete left out, cluster -1)" if clustered < n_tracks else "")
          + f" by {', '.join(result.clusters.columns)}")
    print(cluster_choice(result.clusters))
    summary = summary_table(result, time_unit)
    header = f"{'cluster':>7} {'tracks':>6}  {'D ± s.e. (' + d_unit + ')':<24} {'spread':>9}  {'alpha':<12} motion"
    print(header)
    for _, row in summary.iterrows():
        d_text = f"{row[f'D ({d_unit})']:.4g} ± {row[f'D s.e. ({d_unit})']:.2g}"
        alpha = f"{row['alpha']:.2f} ± {row['alpha spread']:.2f}"
        print(f"{row['cluster']:>7} {row['tracks']:>6}  {d_text:<24} {row[f'D spread ({d_unit})']:>9.3g}  "
              f"{alpha:<12} {row['motion']}")
    print("D: line through the first points of the cluster's ensemble MSD (Michalet 2010) ± standard error; spread: "
          "standard deviation of the per-track D; alpha: MSD exponent, mean ± sd over tracks")
    if (summary["alpha"] < CONFINED_ALPHA).any():
        print(f"confined or subdiffusive clusters (alpha < {CONFINED_ALPHA}): the MSD bends within the fitted lags, "
              "so D is an apparent value; read them from alpha and the MSD curve")
    per_track = track_table(result, time_unit)
    if "population" in per_track and per_track["population"].nunique() > 1:
        from sklearn.metrics import adjusted_rand_score

        known = per_track["cluster"] >= 0
        score = adjusted_rand_score(per_track.loc[known, "population"].astype(str), per_track.loc[known, "cluster"])
        print(f"adjusted Rand index against the file's population column: {score:.3f}")
    if out is not None:
        write_table(per_track, out)
        print(f"wrote {out}: {len(per_track)} rows (one per track), columns {', '.join(per_track.columns)}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from engine.analysis.tracking.tracks.example import example_populations, example_tracks

    _positive(args.pixel_size, "--pixel-size", "µm per px")
    _positive(args.frame_interval, "--frame-interval", "s")
    _seed(args.seed)
    if not (math.isfinite(args.sigma) and args.sigma >= 0):
        raise ValueError(f"--sigma must be a finite number >= 0 (µm), got {args.sigma:g}")
    if not 1 <= args.n_tracks <= 100_000:
        raise ValueError(f"--tracks must be 1 to 100000 (per population), got {args.n_tracks}")
    longest = args.n_frames if isinstance(args.n_frames, int) else args.n_frames[1]
    if 3 * args.n_tracks * longest > 20_000_000:
        raise ValueError(f"--tracks {args.n_tracks} with up to {longest} positions each makes more than 20 million "
                         "rows; ask for fewer")
    out = _output(args.out)
    table = example_tracks(n_tracks=args.n_tracks, n_frames=args.n_frames, pixel_size=args.pixel_size,
                           frame_interval=args.frame_interval, sigma=args.sigma, seed=args.seed)
    if args.detections:
        table = table.drop(columns="particle").sort_values("frame", kind="stable")
    write_table(table, out)
    kinds = "; ".join(f"{p.name}: D = {p.diffusion:g} µm²/s" + (f" in a trap with <x²> = {p.trap_variance:g} µm²"
                                                                   if p.trap_variance else ", free")
                      for p in example_populations(args.n_tracks))
    print(f"wrote {out}: {len(table):,} positions of {3 * args.n_tracks} tracks, x, y in px "
          f"({args.pixel_size:g} µm/px), {args.frame_interval:g} s between frames; true populations in column "
          f"'population' ({kinds})")
    # five times the rms 2D step of the fastest population, in px
    link = f" --link {5 * math.sqrt(4 * 0.5 * args.frame_interval) / args.pixel_size:.2g}" if args.detections else ""
    print(f"analyse it: matloop track tracks {out} --pixel-size {args.pixel_size:g} "
          f"--frame-interval {args.frame_interval:g}{link} --csv per_track.csv")
    return 0
