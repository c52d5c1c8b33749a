"""``matloop track holograms|generate-holograms``: particles characterised in hologram frames.

``holograms`` reads PNG, TIFF (every page a frame) or ``.npy`` frames, normalises each by a
background image (``--background``) or by its median, and runs detection → estimation →
refinement (:func:`engine.analysis.tracking.pipeline.characterise_frame`) on every frame; it
prints one line per particle and writes the table with ``--output`` (a ``frame`` column numbers
the frames across the files, so the table links into tracks: ``matloop track tracks OUT.csv
--link R``). ``generate-holograms`` writes seeded synthetic frames (PNG/TIFF as a camera would
record them, or ``.npy``) with their truth table, to try it headless. Heavy modules are
imported only when a command runs.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

__all__ = ["register_actions"]

#: A 100× oil-immersion holographic microscope with a blue (447 nm) laser and 0.048 µm pixels, in water:
#: the defaults of generate-holograms only (the shipped networks were trained for it).
DEFAULT_MICROSCOPE = {"wavelength": 0.447, "magnification": 0.048, "n_m": 1.34}
#: Names of the pipeline's detectors and estimators (``pipeline.DETECTORS``, ``ESTIMATORS``; kept
#: here so that ``--help`` does not import the pipeline).
DETECTOR_NAMES = ("cnn", "orientation-alignment")
ESTIMATOR_NAMES = ("cnn", "svr")
#: Most frames written by one generate-holograms call.
MAX_GENERATED = 1000


def _shape(text: str) -> tuple[int, int]:
    rows, x, columns = text.lower().partition("x")
    try:
        shape = (int(rows), int(columns))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROWSxCOLUMNS in px (e.g. 512x512), got {text!r}") from None
    if not x or min(shape) < 64 or shape[0] * shape[1] > 2048 * 2048:
        raise argparse.ArgumentTypeError(f"frames must be at least 64x64 px and at most 4.2 megapixels, got {text!r}")
    return shape


def _particles(text: str) -> tuple[int, int]:
    low, dash, high = text.partition("-")
    try:
        value = (int(low), int(high)) if dash else (int(low), int(low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH particles per frame, got {text!r}") from None
    if not 0 <= value[0] <= value[1] <= 50:
        raise argparse.ArgumentTypeError(f"particles per frame must be 0 to 50 (LOW <= HIGH), got {text!r}")
    return value


def _instrument_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    default = "" if required else " (default {})"
    parser.add_argument("--wavelength", type=float, required=required, default=None if required else
                        DEFAULT_MICROSCOPE["wavelength"], help="vacuum wavelength of the illumination, µm"
                        + default.format(DEFAULT_MICROSCOPE["wavelength"]))
    parser.add_argument("--magnification", type=float, required=required, default=None if required else
                        DEFAULT_MICROSCOPE["magnification"], help="size of a camera pixel in the focal plane, µm/px"
                        + default.format(DEFAULT_MICROSCOPE["magnification"]))
    parser.add_argument("--medium-index", dest="n_m", type=float, required=required, default=None if required else
                        DEFAULT_MICROSCOPE["n_m"], help="refractive index of the medium (water: 1.34)"
                        + default.format(DEFAULT_MICROSCOPE["n_m"]))


def register_actions(actions: argparse._SubParsersAction) -> None:
    """Add ``holograms`` and ``generate-holograms`` to the actions of ``matloop track``."""
    holograms = actions.add_parser(
        "holograms", help="find and characterise particles (x, y, z, radius, index) in hologram frames",
        description="FILES: PNG, TIFF (every page a frame) or .npy (a 2D frame, or a 3D stack of frames) hologram "
        "frames of one microscope. Each frame is normalised by the background image (--background) or by its own "
        "median (even illumination, dilute sample), then particles are detected and their radius, index and depth "
        "estimated — by the shipped convolutional networks for the microscope they were trained for (λ 0.447 µm, "
        "0.048 µm/px, n_m 1.34; after Altman & Grier 2020), else by orientation alignment (Krishnatreya & Grier "
        "2014) and support vector regression on radial profiles (Yevick et al. 2014); --detector and --estimator "
        "choose — and refined by a Lorenz-Mie fit with uncertainties (Lee et al. 2007). Columns of --output: "
        "file, page, frame, particle, x, y (px), z, a_p (µm), n_p, their *_err uncertainties, chi2 (reduced), "
        "success, message ('poor fit' above chi2 2), the detection (x_detected, y_detected, size px, score) and "
        "the estimates (*_estimate).")
    holograms.add_argument("files", nargs="+", metavar="FILE", help="hologram frames (.png, .tif, .tiff, .npy)")
    _instrument_arguments(holograms, required=True)
    holograms.add_argument("--background", help="image of the same size without particles (same camera settings)")
    holograms.add_argument("--output", help="CSV file to write, one row per particle")
    holograms.add_argument("--max-particles", dest="max_particles", type=int, default=50,
                           help="most particles per frame, strongest first (1 to 1000; default 50)")
    holograms.add_argument("--max-crop", dest="max_crop", type=int, default=301,
                           help="largest crop fitted per particle, px (101 to 801; default 301)")
    holograms.add_argument("--detector", choices=("auto", *DETECTOR_NAMES), default="auto",
                           help="auto (default): cnn for the networks' microscope, else orientation-alignment")
    holograms.add_argument("--estimator", choices=("auto", *ESTIMATOR_NAMES), default="auto",
                           help="auto (default): cnn for the networks' microscope, else svr (trained once for another "
                                "microscope, about ten seconds; kept in --estimator-cache)")
    holograms.add_argument("--estimator-cache", dest="estimator_cache", default=None, metavar="DIR",
                           help="folder to keep SVR estimators trained for other microscopes (default: none, trained "
                                "again each run)")
    holograms.add_argument("--no-refine", dest="refine", action="store_false",
                           help="report the estimates without the fits (fast)")
    holograms.add_argument("--seed", type=int, default=0, help="seed of the fits' pixel subsets (default 0)")
    holograms.set_defaults(func=_holograms)

    generate = actions.add_parser(
        "generate-holograms", help="write seeded synthetic hologram frames and their truth table",
        description="Lorenz-Mie holograms of random spheres (uniform in the ranges), normalised, with Gaussian noise; "
        "PNG and TIFF frames are quantised as a camera records them (background at 64 counts of 8 bits or 16384 of "
        "16), .npy frames are the floats. truth.csv holds frame, x, y (px), z, a_p (µm), n_p. The default "
        "microscope: a 447 nm (blue) laser, 0.048 µm per camera pixel in the focal plane (a 100× oil objective) and "
        "water (n_m 1.34), the microscope the shipped networks were trained for.")
    generate.add_argument("--out", required=True, help="directory to write into (created if missing)")
    generate.add_argument("--frames", type=int, default=3, help=f"number of frames, 1 to {MAX_GENERATED} (default 3)")
    generate.add_argument("--shape", type=_shape, default=(512, 512), help="ROWSxCOLUMNS px (default 512x512)")
    generate.add_argument("--particles", type=_particles, default=(1, 3),
                          help="particles per frame: N or LOW-HIGH (default 1-3)")
    generate.add_argument("--min-separation", dest="min_separation", type=float, default=150.0,
                          help="least distance between centres, px (default 150)")
    generate.add_argument("--noise", type=float, default=0.05, help="pixel noise relative to the background "
                          "(default 0.05)")
    generate.add_argument("--format", choices=("png", "tif", "npy"), default="png", help="file format (default png)")
    generate.add_argument("--bits", type=int, choices=(8, 16), default=16, help="bits of PNG and TIFF pixels "
                          "(default 16)")
    _instrument_arguments(generate, required=False)
    generate.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    generate.set_defaults(func=_generate)


def _instrument(args: argparse.Namespace):  # noqa: ANN202 - an Instrument (imported late)
    """The microscope of the options (ranges: :func:`engine.analysis.tracking.instrument.check_optics`)."""
    from engine.analysis.tracking.instrument import Instrument

    for flag, value, unit in (("--wavelength", args.wavelength, "µm"), ("--magnification", args.magnification,
                                                                        "µm per px"), ("--medium-index", args.n_m, "")):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{flag} must be a finite number > 0{' (' + unit + ')' if unit else ''}, got {value:g}")
    try:
        return Instrument(args.wavelength, args.magnification, args.n_m)
    except ValueError as exc:
        message = str(exc)
        for name, flag in (("wavelength", "--wavelength"), ("magnification", "--magnification"),
                           ("n_m", "--medium-index")):
            if message.startswith(name + " "):
                message = flag + message[len(name):]
        raise ValueError(message) from None


def _holograms(args: argparse.Namespace) -> int:
    import pandas as pd

    from engine.analysis.tracking.images import normalise, read_frames
    from engine.analysis.tracking.pipeline import PipelineOptions, Timing, characterise_frame, resolved_options
    from engine.analysis.tracking.svr_shipped import estimator_for
    from engine.cli.common import ProgressLine, write_table
    from engine.cli.track import _output

    instrument = _instrument(args)
    if not 1 <= args.max_particles <= 1000:
        raise ValueError(f"--max-particles must be 1 to 1000, got {args.max_particles}")
    if not 101 <= args.max_crop <= 801:
        raise ValueError(f"--max-crop must be 101 to 801 px, got {args.max_crop}")
    if not 0 <= args.seed < 2**32:
        raise ValueError(f"--seed must be 0 to 2^32 - 1, got {args.seed}")
    options = PipelineOptions(detector=args.detector, estimator=args.estimator, refine=args.refine,
                              max_particles=args.max_particles, max_crop=args.max_crop | 1,
                              min_crop=min(101, args.max_crop | 1), seed=args.seed)
    out = _output(args.output)
    if out is not None and any(out.resolve() == Path(f).resolve() for f in args.files):
        raise ValueError(f"cannot write {out}: it is an input file; give another file name")
    images = [(f, read_frames(f, f)) for f in args.files]           # every file checked before any work
    background = None
    if args.background is not None:
        reference = read_frames(args.background, args.background)
        background = reference.frames[0]
        for note in reference.notes:
            print(f"{args.background}: {note}")
    for name, image in images:
        if background is not None and image.shape != background.shape:
            raise ValueError(f"{name} is {image.shape[0]}×{image.shape[1]} px but the background {args.background} is "
                             f"{background.shape[0]}×{background.shape[1]} px")
        for note in image.notes:
            print(f"{name}: {note}")
    total = sum(len(image.frames) for _, image in images)
    print(f"{total} frame(s) from {len(images)} file(s); microscope λ = {instrument.wavelength:g} µm, "
          f"{instrument.magnification:g} µm/px, n_m = {instrument.n_m:g}; "
          + ("normalised by the background image" if background is not None else "each normalised by its median"))
    smallest = min((min(image.frames[0].shape) for _, image in images), default=0)
    options, methods = resolved_options(options, instrument, (smallest, smallest))
    print(f"detector {options.detector}, estimator {options.estimator}" + (f" ({'; '.join(methods)})" if methods
                                                                           else ""))
    estimator = None
    if options.estimator == "svr":
        estimator = estimator_for(instrument, args.estimator_cache, progress=lambda message: print(message))
    progress = ProgressLine("holograms")
    timing = Timing()
    tables, frame = [], 0
    for name, image in images:
        for page, counts in enumerate(image.frames):
            normalised, _ = normalise(counts, background, name)
            before = len(timing.notes)
            table = characterise_frame(normalised, instrument, options, estimator=estimator, timing=timing,
                                       progress=lambda f, m: progress((frame + f) / total, f"frame {frame + 1}: {m}"))
            timing.notes[before:] = [f"frame {frame} ({name}): {note}" for note in timing.notes[before:]]
            tables.append(table.assign(file=name, page=page, frame=frame))
            frame += 1
    progress(1.0, "done")
    columns = ["file", "page", "frame", *tables[0].columns.drop(["file", "page", "frame"])]
    result = pd.concat(tables, ignore_index=True).loc[:, columns]
    print(f"{'frame':>5} {'#':>3} {'x (px)':>8} {'y (px)':>8} {'z (µm)':>16} {'a_p (µm)':>16} {'n_p':>16} "
          f"{'chi2':>6}  fit")
    for _, row in result.iterrows():
        def value(name: str, digits: int) -> str:
            if not math.isfinite(row[name]):
                return "—"
            error = row[f"{name}_err"]
            return f"{row[name]:.{digits}f} ± {error:.{digits}f}" if math.isfinite(error) else f"{row[name]:.{digits}f}"

        print(f"{row['frame']:>5} {row['particle']:>3} {row['x']:8.2f} {row['y']:8.2f} {value('z', 3):>16} "
              f"{value('a_p', 4):>16} {value('n_p', 4):>16} {row['chi2']:6.2f}  "
              f"{'ok' if row['success'] and not str(row['message']).startswith('poor fit') else row['message']}")
    per_fit = timing.as_dict()["seconds_per_fit"]
    print(f"{len(result)} particles in {total} frame(s), {int(result['success'].sum())} fitted; detection "
          f"{timing.detection:.1f} s, estimation {timing.estimation:.2f} s, refinement {timing.refinement:.1f} s"
          + (f" ({per_fit:.2f} s per fit)" if per_fit else ""))
    for note in timing.notes:
        print(note)
    if out is not None:
        write_table(result, out)
        print(f"wrote {out}: {len(result)} rows (one per particle); x, y in px, z and a_p in µm")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from engine.analysis.tracking.images import write_frames
    from engine.analysis.tracking.synthetic import synthetic_frames
    from engine.cli.common import write_table

    instrument = _instrument(args)
    if args.seed < 0:
        raise ValueError(f"--seed must be an integer >= 0, got {args.seed}")
    if not 1 <= args.frames <= MAX_GENERATED:
        raise ValueError(f"--frames must be 1 to {MAX_GENERATED}, got {args.frames}")
    if not (math.isfinite(args.noise) and 0 <= args.noise <= 1):
        raise ValueError(f"--noise must be 0 to 1 (relative to the background), got {args.noise:g}")
    if not (math.isfinite(args.min_separation) and args.min_separation >= 0):
        raise ValueError(f"--min-separation must be a number >= 0 (px), got {args.min_separation:g}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create {out}: {exc.strerror or exc}") from None
    images, truth = synthetic_frames(args.frames, args.shape, instrument, particles=args.particles, noise=args.noise,
                                     min_separation=args.min_separation, seed=args.seed)
    names = []
    for k, image in enumerate(images):
        path = out / f"frame_{k:03d}.{args.format}"
        try:
            write_frames(path, image, bits=args.bits)
        except OSError as exc:
            raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
        names.append(path)
    write_table(truth, out / "truth.csv")
    kind = "floats" if args.format == "npy" else f"{args.bits}-bit"
    print(f"wrote {len(names)} frames ({args.shape[0]}×{args.shape[1]} px, {kind}) to {out}/frame_*.{args.format} and "
          f"{out / 'truth.csv'} ({len(truth)} particles: frame, x, y in px, z, a_p in µm, n_p)")
    print(f"characterise them: matloop track holograms {out}/frame_*.{args.format} --wavelength {instrument.wavelength:g} "
          f"--magnification {instrument.magnification:g} --medium-index {instrument.n_m:g} --output particles.csv")
    return 0
