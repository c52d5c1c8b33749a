"""``matloop softness predict|train``: glass softness and propensity of configurations and trajectories.

``predict`` reads a configuration — an isoconfigurational ``.npz`` (:mod:`engine.analysis.softness.isoconfig`,
give ``--box`` or ``--density``), a trajectory ``.npz`` (:mod:`engine.analysis.softness.trajectory`) or an
XYZ/CSV file with species — applies a linear model (the shipped Kob–Andersen softness or propensity model,
or a model file), prints its statistics (the Pearson correlation with the file's propensity, or for a
trajectory the share of rearranging particles, p_hop > p_c, with S > 0) and writes one row per particle
(and frame) with ``--csv``. ``train`` fits a model on isoconfigurational files or on trajectories (p_hop
labels, :mod:`engine.analysis.softness.labels`). The analysis modules are imported only when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.common import ProgressLine, write_table

__all__ = ["register"]

_FILES = ("isoconfigurational .npz (types, initial_positions[, positions or propensity]; give --box or --density), "
          "trajectory .npz (types, positions (T, N, d) unwrapped[, times, box])")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("softness", help="glass softness and propensity of particle configurations")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    predict = actions.add_parser(
        "predict", help="softness (or propensity) of every particle of a configuration or trajectory",
        description=f"FILE: {_FILES} or XYZ/CSV with species. Default model: the shipped SVM softness of the 3D "
        "Kob-Andersen glass (A particles, T = 0.44, lengths in sigma_AA).")
    predict.add_argument("file", help="configuration or trajectory file (.npz, .xyz, .csv)")
    predict.add_argument("--model", default="softness",
                         help="softness or propensity (the shipped Kob-Andersen models), or a model file (.json)")
    _box_options(predict)
    _hop_options(predict, "frames evenly spaced where p_hop is defined")
    predict.add_argument("--csv", help="write one row per particle (and frame): [frame, time,] particle, species, x, y, "
                         "z, softness or predicted_propensity (empty for other species), outside_training (descriptors far "
                         "from the model's training data)[, propensity or p_hop, rearranging]")
    predict.set_defaults(func=_predict)

    train = actions.add_parser(
        "train", help="train a softness (SVM) or propensity (ridge) model on isoconfigurational files or trajectories",
        description=f"Each FILE is an {_FILES}. Isoconfigurational files: rearranging = top 10 % propensity, "
        "not rearranging = bottom half. Trajectories: rearranging = p_hop > --threshold at a frame, not rearranging "
        "= p_hop < --stable-threshold within --stable-window frames (Cubuk et al. 2015, Schoenholz et al. 2016).")
    train.add_argument("files", nargs="+", help="training .npz files (one kind)")
    train.add_argument("--kind", choices=("softness", "propensity"), default="softness",
                       help="softness: linear SVM; propensity: ridge regression (isoconfigurational files only)")
    train.add_argument("--species", default="A", help="species the model describes (default A)")
    train.add_argument("--C", type=float, default=0.01, help="SVM regularisation (default 0.01)")
    _box_options(train)
    _hop_options(train, "frames richest in rearrangements")
    train.add_argument("--hold-out", action="store_true",
                       help="score on the last 20 %% of the configurations (trajectory frames) instead of training "
                       "on them (three or more needed)")
    train.add_argument("--name", help="name stored with the model")
    train.add_argument("--out", required=True, help="model file to write (.json)")
    train.set_defaults(func=_train)


def _box_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--box", dest="box_length", type=float,
                        help="box length of .npz files without a box of their own")
    parser.add_argument("--density", type=float, help="number density of .npz files, instead of --box")


def _hop_options(parser: argparse.ArgumentParser, frames: str) -> None:
    group = parser.add_argument_group("trajectories (p_hop)")
    group.add_argument("--half-window", type=int, default=5, help="p_hop window on either side of a frame (frames; "
                       "default 5)")
    group.add_argument("--threshold", type=float, default=0.2,
                       help="p_c: rearranging when p_hop exceeds it (length^2; default 0.2, Kob-Andersen)")
    group.add_argument("--stable-threshold", type=float,
                       help="not rearranging when p_hop stays below it (length^2; default the threshold)")
    group.add_argument("--stable-window", type=int,
                       help="frames on either side over which p_hop must stay low (default 2 x half window)")
    group.add_argument("--frames", dest="max_frames", type=int, default=10,
                       help=f"most frames described per trajectory ({frames}; default 10)")


#: Names in the messages of :class:`~engine.analysis.softness.labels.HopSettings` and their options.
_HOP_OPTIONS = (("half_window", "--half-window"), ("stable_threshold", "--stable-threshold"),
                ("threshold", "--threshold"), ("stable_window", "--stable-window"), ("max_frames", "--frames"))


def _hops(args: argparse.Namespace):
    from engine.analysis.softness.labels import HopSettings, in_words

    try:
        return HopSettings(half_window=args.half_window, threshold=args.threshold,
                           stable_threshold=args.stable_threshold, stable_window=args.stable_window,
                           max_frames=args.max_frames)
    except ValueError as exc:
        raise ValueError(in_words(str(exc), _HOP_OPTIONS)) from None


def _read(path: str, args: argparse.Namespace):
    from engine.analysis.softness.inputs import check_format, is_trajectory, read_glass_file
    from engine.analysis.softness.trajectory import npz_fields

    name = Path(path).name
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such file" if not Path(path).exists() else f"{path}: not a file")
    kind = check_format(path)
    if args.box_length is not None and args.density is not None:
        raise ValueError("give --box or --density, not both (the density sets the box length L = (N/density)^(1/d))")
    if kind != "npz" and (args.box_length is not None or args.density is not None):
        raise ValueError(f"{name}: --box and --density apply to .npz files only; a .{kind} file carries its own box")
    if kind == "npz" and args.box_length is None and args.density is None \
            and not (is_trajectory(path) and "box" in npz_fields(path)):
        raise ValueError(f"{name}: an .npz file has no box; give --box L or --density RHO "
                         "(the Kob-Andersen data: --box 15.05658)")
    return read_glass_file(path, box_length=args.box_length, density=args.density)


def _model(name: str):
    from engine.analysis.softness.catalog import resolve_model

    try:
        return resolve_model(name)
    except ValueError as exc:
        raise ValueError(f"--model {exc}") from None


def _output(path: str | None) -> Path | None:
    """The output path, checked before any work is done (its folder exists; it is not a folder)."""
    out = Path(path) if path else None
    if out is not None and not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: directory {out.parent} does not exist")
    if out is not None and out.is_dir():
        raise ValueError(f"cannot write {out}: it is a directory; give a file name")
    return out


def _predict(args: argparse.Namespace) -> int:
    from engine.analysis.softness.prediction import COLUMNS, predict_table

    model = _model(args.model)
    out = _output(args.csv)
    hops = _hops(args)
    data = _read(args.file, args)
    table, summary = predict_table(data, [model], hops=hops)
    values = table[COLUMNS[model.kind]].dropna().to_numpy()
    unit = "descriptor-space units" if model.kind == "softness" else "length units"
    lengths = " × ".join(f"{v:.4g}" for v in summary["box"])
    frames = summary.get("frames")
    where = f", {len(frames)} of {summary['n_frames']} frames ({frames[0]}…{frames[-1]})" if frames else ""
    print(f"{args.file}: {summary['n_particles']} particles, {summary['dim']}D box {lengths}{where}, species "
          + ", ".join(f"{s} {n}" for s, n in summary["species"].items()))
    print(f"model: {summary['models'][0]['title']}")
    print(f"{model.kind} of {len(values)} {model.species} particles{' × frames' if frames else ''} ({unit}): mean "
          f"{values.mean():.3f}, std {values.std():.3f}, min {values.min():.3f}, max {values.max():.3f}")
    if model.kind == "softness":
        print(f"soft (S > 0): {100 * summary['soft_fraction']:.1f} % of {model.species} particles")
    for key in ("pearson_softness", "pearson_ridge"):
        if key in summary:
            print(f"Pearson correlation with the file's propensity ({model.species}): {summary[key]:.3f}")
    if frames:
        print(f"rearranging (p_hop > {hops.threshold:g}): {summary['n_rearranging']} particle-frames"
              + (f", {100 * summary['rearranging_soft_fraction']:.1f} % of them with S > 0"
                 if summary.get("rearranging_soft_fraction") is not None else ""))
    for warning in summary["warnings"]:
        print(f"warning: {warning}")
    if out is not None:
        write_table(table, out)
        print(f"wrote {out}: {len(table)} rows")
    return 0


def _train(args: argparse.Namespace) -> int:
    from engine.analysis.softness.training import fit_units, split_held_out, units_from

    out = _output(args.out)
    hops = _hops(args)
    if not args.C > 0:
        raise ValueError(f"--C must be > 0, got {args.C:g}")
    units = []
    for path in args.files:
        if Path(path).suffix.lower() != ".npz":
            raise ValueError(f"{path}: training files must be isoconfigurational .npz files with propensity or "
                             "trajectory .npz files")
        units += units_from(_read(path, args), Path(path).name, species=args.species, hops=hops)
    train, held = split_held_out(units) if args.hold_out else (units, [])
    if args.hold_out and not held:
        raise ValueError(f"--hold-out needs three or more configurations (trajectory frames); there are {len(units)}")
    model, report = fit_units(train, kind=args.kind, species=args.species, C=args.C, held_out=held,
                              progress=ProgressLine("softness train"))
    source = "p_hop labels" if units[0].labels is not None else "propensity"
    model.details.update(name=args.name or out.stem, source=f"{', '.join(Path(p).name for p in args.files)} "
                         f"({len(train)} configurations, {source})", report=report)
    model.save(out)
    seconds = report["describe_seconds"] + report["fit_seconds"]
    print(f"trained {args.kind} of species {args.species} on {len(train)} configurations "
          f"({report['training_particles']} particles, {source}) in {seconds:.1f} s; wrote {out}")
    scores = report.get("held_out")
    if scores:
        text = [f"Pearson with propensity {scores['pearson']:.3f}" if "pearson" in scores else "",
                f"balanced accuracy {scores['balanced_accuracy']:.3f}" if "balanced_accuracy" in scores else "",
                f"rearranging with S > 0: {100 * scores['rearranging_soft_fraction']:.1f} %"
                if scores.get("rearranging_soft_fraction") is not None else ""]
        print(f"held out ({scores['configurations']} configurations): " + "; ".join(t for t in text if t))
    return 0
