"""``matloop label``: label designs with the fracture solver through the executor into the store."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from designs.registry import read_designs
from engine.cli.common import ProgressLine, open_store
from engine.cli.jobs import parse_params
from engine.evaluators.fracture import FAILURE_METRICS, FRACTURE_SPACES, FractureEvaluator, label_fracture_batch
from engine.evaluators.fracture_batch import random_plates
from engine.runtime.executors import make_executor
from fem.fracture import DEFAULT_ELL, FIDELITIES
from fem.materials import DEFAULT_PHASE_SETTINGS, PHASE_SETTINGS
from fem.plate_setup import GRIPS, MAX_ELL
from fem.phasefield_split import SPLITS

__all__ = ["register", "RESULT_COLUMNS", "add_setup_arguments", "setup_options", "phase_settings"]

#: Metrics printed (and written with --csv) for each design, by fidelity (those it computes, and for a
#: full label how the plate failed).
RESULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "fast": ("stiffness", "energy_release_rate_per_stress_squared", "stress_intensity_per_stress", "wall_time"),
    "strength": ("stiffness", "strength", "wall_time"),
    "full": ("stiffness", "strength", "toughness", *FAILURE_METRICS, "grip_band", "wall_time"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "label",
        help="label checkerboard/hierarchical designs with the fracture solver",
        description="Label designs from a file (JSON list or JSON lines of {space, genome}) or "
        "random designs. Designs already labelled under the same solver set-up are skipped.",
    )
    parser.add_argument("file", nargs="?", help="designs file; omit with --random")
    parser.add_argument("--random", type=int, metavar="N", help="label N random designs instead of a file")
    parser.add_argument("--space", choices=FRACTURE_SPACES, default="checkerboard",
                        help="design space of --random designs and of bare genomes in FILE")
    parser.add_argument("--size", type=int, default=8, help="grid size of random designs (coarse grid for hierarchical)")
    parser.add_argument("--soft-fraction", type=float,
                        help="soft block fraction of random checkerboards (default 0.5)")
    parser.add_argument("--symmetric", action="store_true", help="random checkerboards mirror-symmetric about the crack")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random designs")
    parser.add_argument("--fidelity", choices=FIDELITIES, default="full",
                        help="fast: one linear solve; strength: run to the peak; full: run to failure")
    add_setup_arguments(parser)
    parser.add_argument("--campaign", help="also link the designs to this campaign (created if new)")
    parser.add_argument("--csv", metavar="OUT", help="write one row of metrics per design to this CSV file")
    parser.set_defaults(func=run)


#: Estimated seconds of one label above which the command says, before it starts, how long a label may take.
LONG_LABEL_SECONDS = 60.0


def add_setup_arguments(parser: argparse.ArgumentParser, defaults: bool = True) -> None:
    """The fracture solver set-up flags (loading, 2D model, length scale, mesh, energy split, grips, grip
    strips, phases); without ``defaults`` the loading and 2D model are left out when not given too."""
    parser.add_argument("--mode", choices=("I", "II"), default="I" if defaults else None,
                        help="tension (I) or shear (II)" + ("" if defaults else " (default I)"))
    parser.add_argument("--plane", choices=("stress", "strain"), default="stress" if defaults else None,
                        help=None if defaults else "2D model (default stress)")
    parser.add_argument("--ell", type=float, metavar="MM",
                        help=f"phase-field length scale in mm, the same on every grid, at most {MAX_ELL:g} (default "
                        f"{DEFAULT_ELL:g}); a phase given by its failure strain keeps its strength and its toughness "
                        "G_c follows ell")
    mesh = parser.add_mutually_exclusive_group()
    mesh.add_argument("--element-size", type=float, metavar="MM",
                      help="largest element edge in mm, at most ell/2 (default ell/2)")
    mesh.add_argument("--elements-per-block", type=int, metavar="N",
                      help="instead of --element-size: elements per block side (the element then has to be "
                      "at most ell/2 along both axes of the design's blocks)")
    parser.add_argument("--split", choices=SPLITS,
                        help="energy split that drives the damage (default: none in mode I, spectral in mode II)")
    parser.add_argument("--grips", choices=GRIPS,
                        help="how the top and bottom edges are held: through a thin elastic layer (bonded, the default) "
                        "or with their displacements prescribed (clamped)")
    parser.add_argument("--grip-strip", type=float, metavar="ELLS",
                        help="width of the damage-free strips along the grips, in units of ell (default 0; 2 in mode I "
                        "with clamped grips)")
    defaults = "; ".join(f"{name} " + ", ".join(f"{k}={v:g}" for k, v in phase.items())
                         for name, phase in DEFAULT_PHASE_SETTINGS.items())
    parser.add_argument("--phase", action="append", default=[], metavar="NAME:KEY=VALUE,...",
                        help=f"change a phase ({', '.join(DEFAULT_PHASE_SETTINGS)}), e.g. soft:E=50,failure_strain=0.3 "
                        "(repeatable; a new phase needs E, nu and Gc or failure_strain); keys "
                        + ", ".join(f"{k} ({unit})" for k, unit in PHASE_SETTINGS.items())
                        + f", compressive_strength=none for a phase that never crushes; defaults: {defaults}")


def setup_options(args: argparse.Namespace, phases: Mapping[str, Mapping[str, Any]] | None = None) -> dict:
    """``PlateSetup`` fields from the flags of :func:`add_setup_arguments` (unset ones left out);
    ``--phase`` changes ``phases`` (settings by phase name; the default phases when None)."""
    options = {}
    for name in ("mode", "plane", "ell", "element_size", "elements_per_block", "split", "grips", "grip_strip"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.phase:
        options["materials"] = phase_settings(args.phase, phases)
    return options


def phase_settings(texts: list[str], phases: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict]:
    """The phases (settings of :func:`fem.materials.material_from_settings`) after ``--phase`` changes.

    Each text is ``NAME:KEY=VALUE,...``; a phase of ``phases`` (the default phases when None) or a default
    phase keeps what is not given (a toughness given as ``Gc`` replaces its failure strain and the other way
    round); a new name needs every setting.

    Raises
    ------
    ValueError
        A text not of that form; the values themselves are checked by ``PlateSetup``.
    """
    phases = {name: dict(phase) for name, phase in (DEFAULT_PHASE_SETTINGS if phases is None else phases).items()}
    for text in texts:
        name, sep, pairs = text.partition(":")
        if not (sep and name.strip() and pairs.strip()) or "=" in name:
            raise ValueError(f"--phase {text!r} is not of the form NAME:KEY=VALUE,... (e.g. soft:E=50,failure_strain=0.3)")
        name = name.strip()
        items = [item.split("=", 1) for item in pairs.split(",")]
        keys = [item[0].strip() for item in items]
        if len(set(keys)) < len(keys):
            raise ValueError(f"--phase {text!r} gives {sorted({k for k in keys if keys.count(k) > 1})} more than once")
        given = parse_params(["=".join(part.strip() for part in item) for item in items], f"--phase {name}:")
        if name not in phases and name in DEFAULT_PHASE_SETTINGS:  # a default phase that a --config file left out
            phases[name] = dict(DEFAULT_PHASE_SETTINGS[name])
        if name not in phases and not ({"E", "nu"} <= set(given) and {"Gc", "failure_strain"} & set(given)):
            raise ValueError(f"--phase {name}: is not one of the phases ({', '.join(phases)}); a new phase "
                             f"needs E, nu and Gc or failure_strain")
        phase = phases.setdefault(name, {})
        for toughness, other in (("Gc", "failure_strain"), ("failure_strain", "Gc")):
            if toughness in given:
                phase.pop(other, None)
        phase.update(given)
    return phases


def _designs(args: argparse.Namespace) -> list:
    if (args.file is None) == (args.random is None):
        raise ValueError("give either a designs FILE or --random N (not both)")
    if args.file is not None:
        return read_designs(args.file, default_space=args.space)
    if not 1 <= args.random <= 1_000_000:
        raise ValueError(f"--random must be in 1..1000000, got {args.random}")
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.space != "checkerboard" and (args.soft_fraction is not None or args.symmetric):
        raise ValueError(f"--soft-fraction and --symmetric apply to random checkerboards; random {args.space} designs "
                         "draw their building blocks at random")
    # the same draw as the app's batch job (kind "label-batch")
    return random_plates(args.space, args.random, args.size, 0.5 if args.soft_fraction is None else args.soft_fraction,
                         args.seed, args.symmetric)


def _check_writable(path: str) -> None:
    """``ValueError`` unless a CSV file can be written at ``path`` (checked before any labelling)."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"--csv {path} is a directory; give a file name such as {target / 'labels.csv'}")
    if not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
        raise ValueError(f"--csv {path}: cannot write into {target.parent.absolute()} (missing or not writable)")


def run(args: argparse.Namespace) -> int:
    """Label, print a summary and one line per design; exit 1 if any label failed."""
    options = setup_options(args)
    evaluator = FractureEvaluator.from_options(args.fidelity, options)
    if args.random is not None and args.file is None and args.size >= 1:
        # before drawing designs of that size: a grid too large for this machine is refused with
        # its memory estimate, not by the memory error of drawing it
        sub = 2 if args.space == "hierarchical" else 1  # Hierarchical.random: 2×2 blocks per building block
        evaluator.check_grid(args.size * sub, args.size * sub)
    designs = _designs(args)
    key = evaluator.key()
    if args.csv:
        _check_writable(args.csv)
    store = open_store(args)
    unique = list({d.content_hash(): d for d in designs}.values())  # a design drawn twice is labelled once
    slowest = max((evaluator.cost(d) for d in unique), key=lambda cost: cost.seconds)
    if slowest.seconds > LONG_LABEL_SECONDS:  # the progress line moves once per design: say what to expect
        print(f"note: one label may take long: {slowest.describe()} (an estimate; Ctrl-C stops, and stored "
              "labels stay)", file=sys.stderr)
    line = ProgressLine(f"label {args.fidelity}")
    with make_executor(args.executor) as executor:
        report = label_fracture_batch(
            store, designs, args.fidelity, options, executor,
            progress=lambda done, total: line(done / total, f"{done}/{total} designs"),
        )
    if args.campaign:
        known = {c["name"]: c["id"] for c in store.campaigns()}
        campaign = known.get(args.campaign) or store.create_campaign(
            args.campaign, {"space": args.space, "solver": key.name, "fidelity": key.fidelity, **options}
        )
        store.add_to_campaign(campaign, [d.content_hash() for d in designs])
    print(
        f"{report.unique} design{'' if report.unique == 1 else 's'}: {report.newly_labelled} labelled now "
        f"({report.labelled_failed} failed), {report.already_labelled} already in the store {store.path}"
    )
    columns = RESULT_COLUMNS[args.fidelity]
    rows = []
    for design in unique:
        label = store.get_label(design.content_hash(), key)
        if label is None:
            continue
        rows.append([design.content_hash()[:12], label.status,
                     *(label.metrics.get(c) for c in columns), label.reason or ""])
    header = ["design", "status", *columns, "reason"]
    widths = [max(12, len(h)) for h in header[:-1]]
    print("  ".join(f"{h:>{w}}" for h, w in zip(header, widths)), header[-1])
    for row in rows[:50]:
        cells = [f"{v:{w}.4g}" if isinstance(v, float) else f"{'-' if v is None else str(v):>{w}}"
                 for v, w in zip(row, widths)]
        print("  ".join(cells), row[-1])
    if len(rows) > 50:
        print(f"... {len(rows) - 50} more (use --csv)")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:  # checked above: a failure now is the disk's
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        print(f"wrote {args.csv}", file=sys.stderr)
    return 1 if any(row[1] == "failed" for row in rows) else 0
