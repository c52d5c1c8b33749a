"""``matloop softness predict|train``: glass softness and propensity of particle configurations.

``predict`` reads a configuration — an isoconfigurational ``.npz`` (:mod:`engine.analysis.softness.isoconfig`,
give ``--box`` or ``--density``) or an XYZ/CSV file with species (:mod:`engine.analysis.ordering.readers`) —
applies a linear model (the shipped Kob–Andersen softness or propensity model, or a model file),
prints its statistics (and the Pearson correlation with the file's propensity, when it has one)
and writes one row per particle with ``--csv``. ``train`` fits a model on isoconfigurational files.
The analysis modules are imported only when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine.cli.common import write_table

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("softness", help="glass softness and propensity of particle configurations")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    predict = actions.add_parser(
        "predict", help="softness (or propensity) of every particle of a configuration",
        description="FILE: isoconfigurational .npz (types, initial_positions[, positions or propensity]; give --box "
        "or --density) or XYZ/CSV with species. Default model: the shipped SVM softness of the 3D Kob-Andersen "
        "glass (A particles, T = 0.44, lengths in sigma_AA).")
    predict.add_argument("file", help="configuration file (.npz, .xyz, .csv)")
    predict.add_argument("--model", default="softness",
                         help="softness or propensity (the shipped Kob-Andersen models), or a model file (.json)")
    _box_options(predict)
    predict.add_argument("--csv", help="write one row per particle: particle, species, x, y, z, softness or predicted_propensity "
                         "(empty for other species)[, propensity from the file]")
    predict.set_defaults(func=_predict)

    train = actions.add_parser(
        "train", help="train a softness (SVM) or propensity (ridge) model on isoconfigurational files",
        description="Each FILE is an isoconfigurational .npz with propensity (or the trajectories to compute it).")
    train.add_argument("files", nargs="+", help="training .npz files")
    train.add_argument("--kind", choices=("softness", "propensity"), default="softness",
                       help="softness: linear SVM, top 10 %% propensity against the bottom half; propensity: ridge")
    train.add_argument("--species", default="A", help="species the model describes (default A)")
    _box_options(train)
    train.add_argument("--out", required=True, help="model file to write (.json)")
    train.set_defaults(func=_train)


def _box_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--box", dest="box_length", type=float, help="box length of .npz files (they carry none)")
    parser.add_argument("--density", type=float, help="number density of .npz files, instead of --box")


def _read(path: str, args: argparse.Namespace):
    from engine.analysis.softness.isoconfig import GlassSample, read_isoconfigurational

    if Path(path).suffix.lower() == ".npz":
        if args.box_length is None and args.density is None:
            raise ValueError(f"{Path(path).name}: an .npz file has no box; give --box L or --density RHO "
                             "(the Kob-Andersen data: --box 15.05658)")
        return read_isoconfigurational(path, box_length=args.box_length, density=args.density)
    if args.box_length is not None or args.density is not None:
        raise ValueError("--box and --density apply to .npz files only; XYZ and CSV files carry their box")
    from engine.analysis.ordering.configurations import read_configuration

    return GlassSample(read_configuration(path))


def _model(name: str):
    from engine.analysis.softness.models import load_model
    from engine.analysis.softness.shipped import SHIPPED_PROPENSITY, SHIPPED_SOFTNESS

    shipped = {"softness": SHIPPED_SOFTNESS, "propensity": SHIPPED_PROPENSITY}
    if name in shipped:
        return load_model(shipped[name])
    if not Path(name).is_file():
        raise ValueError(f"--model {name}: no such file; give softness, propensity or a model file")
    return load_model(name)


def _predict(args: argparse.Namespace) -> int:
    model = _model(args.model)
    out = Path(args.csv) if args.csv else None
    if out is not None and not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: directory {out.parent} does not exist")
    sample = _read(args.file, args)
    system = sample.system
    values = model.predict(system)
    mine = np.isfinite(values)
    unit = "descriptor-space units" if model.kind == "softness" else "length units"
    lengths = " × ".join(f"{v:.4g}" for v in system.box.L[: system.dim])
    print(f"{args.file}: {system.n_particles} particles, {system.dim}D box {lengths}, species "
          + ", ".join(f"{s} {int(np.sum(system.species == s))}" for s in sorted(set(system.species.tolist()))))
    print(f"model: {model.kind} of species {model.species} ({model.details.get('configurations', '?')} training "
          f"configurations)")
    print(f"{model.kind} of {int(mine.sum())} {model.species} particles ({unit}): mean {values[mine].mean():.3f}, "
          f"std {values[mine].std():.3f}, min {values[mine].min():.3f}, max {values[mine].max():.3f}")
    if model.kind == "softness":
        print(f"soft (S > 0): {100 * np.mean(values[mine] > 0):.1f} % of {model.species} particles")
    if sample.propensity is not None:
        from scipy.stats import pearsonr

        print(f"Pearson correlation with the file's propensity ({model.species}): "
              f"{pearsonr(values[mine], sample.propensity[mine])[0]:.3f}")
    if out is not None:
        from engine.analysis.softness.softness_job import positions_table

        table = positions_table(system)
        table["softness" if model.kind == "softness" else "predicted_propensity"] = values
        if sample.propensity is not None:
            table["propensity"] = sample.propensity
        write_table(table, out)
        print(f"wrote {out}: {len(table)} rows")
    return 0


def _train(args: argparse.Namespace) -> int:
    import time

    from engine.analysis.softness.models import train_propensity_ridge, train_softness

    out = Path(args.out)
    if not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: directory {out.parent} does not exist")
    samples = []
    for path in args.files:
        if Path(path).suffix.lower() != ".npz":
            raise ValueError(f"{path}: training files must be isoconfigurational .npz files with propensity")
        samples.append(_read(path, args))
    start = time.perf_counter()
    trainer = train_softness if args.kind == "softness" else train_propensity_ridge
    model = trainer(samples, species=args.species)
    model.save(out)
    print(f"trained {args.kind} of species {args.species} on {len(samples)} configurations "
          f"({model.details['training_particles']} particles) in {time.perf_counter() - start:.1f} s; wrote {out}")
    return 0
