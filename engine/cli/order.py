"""``matloop order classify|generate|methods``: crystal order of particle configurations.

``classify`` reads an XYZ or CSV configuration (:mod:`engine.analysis.ordering.readers`), runs a
method of :data:`engine.analysis.ordering.methods.METHODS`, prints the class fractions (and the
agreement with the file's own labels, when it has a ``label`` column) and writes one row per
particle with ``--csv``. ``generate`` writes a seeded test configuration with true labels.
The analysis modules (freud, scikit-learn, torch) are imported only when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from engine.cli.common import write_table

__all__ = ["register"]

#: Command-line flag → method option it sets.
_OPTION_FLAGS = {
    "neighbors": "--neighbours", "descriptors": "--descriptors", "n_components": "--classes",
    "seed": "--seed", "model": "--model", "epochs": "--epochs", "min_samples": "--min-samples", "eps": "--eps",
    "clusterer": "--clusterer", "cutoff": "--cutoff",
}


def _as_flags(exc: ValueError, flags: dict[str, str]) -> ValueError:
    """The error with a leading option name (``n_components must …``) spelt as its flag."""
    message = str(exc)
    for name, flag in flags.items():
        if message.startswith(f"{name} "):
            return ValueError(flag + message[len(name):])
    return exc


def _neighbours(text: str) -> int | str:
    if text in ("voronoi", "sann"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a neighbour count, 'voronoi' or 'sann', got {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("order", help="classify crystal order of particles (XYZ/CSV), write test configurations")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    classify = actions.add_parser(
        "classify", help="classify every particle of a configuration file",
        description="Reads an XYZ (extended, with Lattice) or CSV (with '# box:' header) file, classifies each "
        "particle's environment and prints the class fractions. Methods: mlp (shipped model: fcc, bcc, hcp, "
        "liquid, other), q6-threshold (baseline), cna (common-neighbour analysis), diffraction-cnn (shipped CNN on "
        "diffraction images), gmm, dbscan, autoencoder, diffusion-map, umap, gmm-mlp (unsupervised; 'matloop "
        "order methods' lists them). Unsupervised descriptors: steinhardt tells structures apart (fcc from hcp); "
        "coherence-6 tells crystal from liquid, surface layers included (slabs, nuclei); auto (default) uses "
        "coherence-6 when it finds two phases, else steinhardt.",
    )
    classify.add_argument("file", help="configuration file (.xyz, .csv, or .gsd: its first frame)")
    # configurations.READ_FORMATS, spelled out: building the parser must not import freud
    classify.add_argument("--format", choices=("xyz", "csv", "gsd"), help="file format (default: from the suffix)")
    classify.add_argument("--method", default="mlp", help="classification method (default: mlp)")
    classify.add_argument("--neighbours", "--neighbors", dest="neighbors", type=_neighbours,
                          help="neighbours of the unsupervised descriptors (all of them, bond-order included: with a "
                          "definition other than 12 its q_l, q̄_l, ŵ_l use it instead of the MLP's 12 and 14): a count, voronoi or "
                          "sann (default 12). Choose a count that "
                          "closes a shell: fcc/hcp 12, bcc 14 (8 + 6), sc 6, diamond 4, 2D hexagonal 6; a count that cuts a shell "
                          "(bcc with 8 or 12: thermal noise swaps neighbours across the cut) splits one crystal into classes, "
                          "and voronoi counts thermal slivers as neighbours")
    classify.add_argument("--descriptors", help="descriptors of the unsupervised methods: auto (default), steinhardt, "
                          "averaged, coherence-6, bond-order")
    classify.add_argument("--classes", dest="n_components", type=int,
                          help="number of classes K of gmm, autoencoder, diffusion-map, umap, gmm-mlp (default: a mixture of 1-6 components, "
                          "1-2 on coherence-6, by BIC, merged into one class per density mode)")
    classify.add_argument("--seed", type=int, help="seed of the unsupervised methods, an integer in 0..4294967295 (default 0)")
    classify.add_argument("--epochs", type=int, help="autoencoder training epochs (default 100)")
    classify.add_argument("--min-samples", dest="min_samples", type=int, help="DBSCAN core-point count (default min(100, N))")
    classify.add_argument("--eps", type=float, help="DBSCAN radius in standardised descriptor units (default: k-distance quantile)")
    classify.add_argument("--clusterer", choices=("gmm", "hdbscan"), help="how umap's map is clustered (default gmm)")
    classify.add_argument("--cutoff", type=float, help="cna bond cutoff in length units (default: adaptive CNA)")
    classify.add_argument("--model", help="model file of mlp or q6-threshold (default: the shipped one)")
    classify.add_argument("--csv", help="write one row per particle (position, label, confidence, q4, q6, embedding)")
    classify.set_defaults(func=_classify)

    generate = actions.add_parser(
        "generate", help="write a seeded test configuration with true labels",
        description="KIND: lattice, liquid, slab (crystal slab in its liquid) or fcc-hcp (stacked blocks). "
        "Lengths in units of the nearest-neighbour distance; the file's 'label' column (CSV) holds the truth.",
    )
    generate.add_argument("kind", help="lattice, liquid, slab or fcc-hcp")
    generate.add_argument("--out", required=True, help="file to write (.csv keeps the true labels; .xyz)")
    generate.add_argument("--structure", help="lattice of a lattice or slab: fcc (default), bcc, hcp, sc, diamond, hexagonal (2D)")
    generate.add_argument("--cells", type=int, help="unit cells per axis")
    generate.add_argument("--lindemann", type=float, help="thermal noise: rms displacement / neighbour distance (default 0.05)")
    generate.add_argument("--particles", type=int, help="particles of a liquid (default 1000)")
    generate.add_argument("--density", type=float, help="number density of a liquid (default √2, that of fcc)")
    generate.add_argument("--slab-fraction", dest="slab_fraction", type=float, help="share of the box height that is crystal (default 0.55), rounded half up "
                          "to whole lattice layers along z (fcc, bcc, hcp: 2 per cell; sc 1; diamond 4)")
    generate.add_argument("--fcc-layers", dest="fcc_layers", type=int, help="close-packed layers of the fcc block (default 12)")
    generate.add_argument("--hcp-layers", dest="hcp_layers", type=int, help="close-packed layers of the hcp block (default 12)")
    generate.add_argument("--seed", type=int, help="seed, an integer in 0..4294967295 (default 0)")
    generate.set_defaults(func=_generate)

    methods = actions.add_parser("methods", help="list the classification methods and their options")
    methods.set_defaults(func=_methods)


def _describe(system: Any) -> str:
    lengths = " × ".join(f"{v:.4g}" for v in system.box.L[: system.dim])
    axes = "".join(a for a, p in zip("xyz", system.periodic) if p) or "none"
    return f"{system.n_particles} particles, {system.dim}D box {lengths} (periodic: {axes})"


def _classify(args: argparse.Namespace) -> int:
    from engine.analysis.ordering.configurations import read_configuration
    from engine.analysis.ordering.methods import METHODS, class_fractions, classify, method_options, particle_table

    if args.method not in METHODS:
        raise ValueError(f"unknown method {args.method!r}; allowed: {', '.join(METHODS)}")
    allowed = method_options(args.method)
    options = {name: getattr(args, name) for name in _OPTION_FLAGS if getattr(args, name) is not None}
    for name in options:
        if name not in allowed:
            flags = ", ".join(_OPTION_FLAGS[o] for o in allowed) or "none"
            raise ValueError(f"{_OPTION_FLAGS[name]} does not apply to the {args.method} method; its options: {flags}")
    if args.csv is not None and Path(args.csv).suffix.lower() != ".csv":
        raise ValueError(f"--csv writes a CSV table; give a file name ending in .csv, got {args.csv!r}")
    out = Path(args.csv) if args.csv else None
    if out is not None and out.resolve() == Path(args.file).resolve():
        raise ValueError(f"--csv {args.csv} is the input configuration; give another file name")
    if out is not None and not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: directory {out.parent} does not exist")
    if out is not None and out.is_dir():  # found before a long classification, not after it
        raise ValueError(f"cannot write {out}: it is a directory; give a file name such as {out / 'order.csv'}")
    try:
        system = read_configuration(args.file, args.format)
    except ValueError as exc:  # the readers' keyword advice is for Python callers
        raise ValueError(str(exc).replace(" or pass box=", "")) from None
    try:
        result = classify(system, args.method, **options)
    except ValueError as exc:
        raise _as_flags(exc, _OPTION_FLAGS) from None
    print(f"{args.file}: {_describe(system)}")
    print(f"method {args.method}: {METHODS[args.method].title}")
    print(f"descriptors: {result.descriptor}")
    confidence = result.table["confidence"].to_numpy()
    labels = result.labels
    print(f"{'class':<12} {'particles':>9} {'fraction':>9}" + ("  mean confidence" if np.isfinite(confidence).any() else ""))
    for name, fraction in class_fractions(labels).items():
        members = labels == name
        line = f"{name:<12} {int(members.sum()):>9} {100 * fraction:>8.1f}%"
        if np.isfinite(confidence[members]).any():
            line += f"  {np.nanmean(confidence[members]):.3f}"
        print(line)
    if "n_components" in result.details:
        merged = result.details.get("mixture_components", result.details["n_components"])
        print(f"K = {result.details['n_components']} classes"
              + (f" (BIC mixture of {merged} components merged by density mode)" if merged != result.details["n_components"] else ""))
    if system.labels is not None:
        if METHODS[args.method].kind != "unsupervised":
            print(f"agreement with the file's labels: {100 * np.mean(labels == system.labels):.1f} %")
        elif len(set(system.labels.tolist())) == 1:
            print(f"the file's labels are one class ({system.labels[0]}): {100 * max(class_fractions(labels).values()):.1f} % "
                  "of the particles are in the largest cluster (the adjusted Rand index is 0 for any split)")
        else:
            from sklearn.metrics import adjusted_rand_score

            print(f"adjusted Rand index against the file's labels: {adjusted_rand_score(system.labels, labels):.3f}")
    if out is not None:
        table = particle_table(system, result, neighbors=options.get("neighbors", 12))
        write_table(table, out)
        print(f"wrote {out}: {len(table)} rows, columns {', '.join(table.columns)}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from engine.analysis.ordering.configurations import GENERATORS, generate, write_configuration
    from engine.analysis.ordering.methods import class_fractions

    if args.kind not in GENERATORS:
        raise ValueError(f"unknown configuration kind {args.kind!r}; allowed: {', '.join(GENERATORS)}")
    names = ("structure", "cells", "lindemann", "particles", "density", "slab_fraction", "fcc_layers",
             "hcp_layers", "seed")
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    wrong = [name for name in given if name not in GENERATORS[args.kind]]
    if wrong:
        flags = ", ".join("--" + n.replace("_", "-") for n in GENERATORS[args.kind])
        raise ValueError(f"--{wrong[0].replace('_', '-')} does not apply to a {args.kind}; its options: {flags}")
    try:
        system = generate(args.kind, **given)
    except ValueError as exc:
        raise _as_flags(exc, {n: "--" + n.replace("_", "-") for n in names}) from None
    try:
        path = write_configuration(system, args.out)
    except ValueError as exc:  # generate has no --format: the suffix decides
        raise ValueError(str(exc).replace(" (by the file suffix, or give the format)", " (by the file suffix)")) from None
    parts = ", ".join(f"{name} {100 * f:.0f} %" for name, f in class_fractions(system.labels).items())
    print(f"wrote {path}: {_describe(system)}; true labels {parts}")
    return 0


def _methods(args: argparse.Namespace) -> int:
    from engine.analysis.ordering.methods import METHODS, method_options

    for name, spec in METHODS.items():
        flags = ", ".join(_OPTION_FLAGS.get(o, o) for o in method_options(name))
        print(f"{name:<14} {spec.kind:<13} {spec.title}")
        print(f"{'':<14} options: {flags or 'none'}")
    return 0
