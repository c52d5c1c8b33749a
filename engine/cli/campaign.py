"""``matloop campaign new|run|resume|status|report|export``: closed-loop design campaigns."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.campaigns.campaign import CANNOT_RESUME, Campaign, is_design_group, is_outdated
from engine.campaigns.objectives import TARGET_MATCHED
from engine.campaigns.report import (EXPORT_FORMATS, best_rows, export_best, grip_note, plot_best_so_far, target_note,
                                    unbroken_note)
from engine.cli.common import ProgressLine, open_store
from engine.cli.jobs import parse_params
from engine.cli.label import add_setup_arguments, setup_options
from engine.evaluators.fracture import FRACTURE_SPACES
from engine.runtime.executors import make_executor
from engine.search.registry import STRATEGIES
from engine.store import StoreError

__all__ = ["register", "config_from_args"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("campaign", help="closed-loop design campaigns: propose, label, learn, repeat")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="configure a campaign (checked before any work) and record it",
                             description="From --config FILE (JSON, see engine.campaigns.config.CampaignConfig) "
                             "and/or the options below (options win). Every campaign needs --space, --strategy, "
                             "--objective (or --target), --budget and --batch-size, from the options or the file.")
    new.add_argument("name")
    new.add_argument("--config", metavar="FILE", help="JSON configuration")
    new.add_argument("--space", choices=("checkerboard", "hierarchical", "spinodoid"))
    new.add_argument("--size", type=int, nargs="+", metavar="N", help="grid rows [columns] (coarse grid for hierarchical)")
    new.add_argument("--strategy", choices=sorted(STRATEGIES))
    new.add_argument("--objective", nargs="+", metavar="METRIC",
                     help="metric to optimise (e.g. toughness); two metrics: their Pareto front")
    new.add_argument("--target", type=float, nargs=9, metavar="C",
                     help="target stiffness C11 C12 C13 C22 C23 C33 C44 C55 C66 (spinodoids, units of the solid's E): "
                     + TARGET_MATCHED)
    new.add_argument("--budget", type=int, help="solver calls")
    new.add_argument("--batch-size", type=int, help="designs labelled together")
    new.add_argument("--seed", type=int)
    new.add_argument("--fidelity", choices=("fast", "strength", "full"), help="fracture labels (grid spaces)")
    add_setup_arguments(new.add_argument_group("fracture solver set-up (grid spaces; as matloop label)"), defaults=False)
    new.add_argument("--resolution", type=int, help="homogenisation voxels per side (spinodoids)")
    new.add_argument("--pretrain", type=int, metavar="N",
                     help="label N random designs at the fast fidelity first and pre-train the surrogate on them "
                          "(genetic, or self-learning with model cnn or linear; strength or full fidelity)")
    new.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE", help="strategy setting (JSON value)")
    new.set_defaults(func=_new)
    for verb, text in (("run", "run a campaign until its budget is spent (Ctrl-C pauses it)"),
                       ("resume", "continue a paused or interrupted campaign")):
        action = actions.add_parser(verb, help=text, description=text.capitalize() + ". A campaign labelled by an "
                                    "older solver version is refused (status, report and export still show it).")
        action.add_argument("name", help="campaign name (matloop campaign status lists them)")
        action.set_defaults(func=_run)
    status = actions.add_parser("status", help="all campaigns, or one in full")
    status.add_argument("name", nargs="?", help="campaign name; without it, every campaign in one line each")
    status.add_argument("--config", metavar="FILE", dest="config_out",
                        help="also write the campaign's configuration as JSON, for 'campaign new NAME --config FILE'")
    status.set_defaults(func=_status)
    report = actions.add_parser("report", help="the best designs and the best-so-far curve")
    report.add_argument("name", nargs="+", help="campaign(s); several share the plot")
    report.add_argument("--top", type=int, default=10, help="best designs listed (default 10)")
    report.add_argument("--plot", metavar="PNG", help="write the best-so-far plot")
    report.set_defaults(func=_report)
    export = actions.add_parser("export", help="the best designs as JSON, JSON lines, CSV, or STL / 3MF files (zip)")
    export.add_argument("name", help="campaign name")
    export.add_argument("--format", choices=EXPORT_FORMATS,
                        help="file format (default: from the --out suffix, .json, .jsonl or .csv)")
    export.add_argument("--top", type=int, default=10, help="best designs exported (default 10)")
    export.add_argument("--out", required=True, metavar="FILE",
                        help="file to write (a .zip for stl and 3mf; - for standard output)")
    export.set_defaults(func=_export)


#: What every campaign needs: configuration key → the option that gives it.
_REQUIRED = {"space": "--space", "strategy": "--strategy", "objective": "--objective (or --target)",
             "budget": "--budget", "batch_size": "--batch-size"}


def config_from_args(args: argparse.Namespace) -> dict:
    """The campaign configuration given by ``--config`` and the options."""
    config: dict = {}
    if args.config:
        try:
            config = json.loads(Path(args.config).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read the campaign configuration {args.config}: {exc}") from None
        if not isinstance(config, dict):
            raise ValueError(f"{args.config} must hold a JSON object")
    for name in ("space", "strategy", "budget", "batch_size", "seed", "pretrain"):
        if getattr(args, name) is not None:
            config[name] = getattr(args, name)
    if args.size:
        if len(args.size) > 2:
            raise ValueError(f"--size takes rows and optionally columns, got {args.size}")
        config.setdefault("space_settings", {}).update(rows=args.size[0], columns=args.size[-1])
    if args.objective and args.target:
        raise ValueError("give either --objective or --target, not both")
    if args.objective:
        if len(args.objective) > 2:
            raise ValueError(f"--objective takes one metric (maximised or minimised as the metric says) or two (their "
                             f"Pareto front), got {len(args.objective)}: {' '.join(args.objective)}")
        kind = "pareto" if len(args.objective) == 2 else "metric"
        config["objective"] = {"kind": kind, "metrics": args.objective}
    if args.target:
        config["objective"] = {"kind": "target_stiffness", "target": args.target}
    _fracture_set_up(config, args)
    if args.resolution:
        if config.get("space") in FRACTURE_SPACES:
            raise ValueError(f"--resolution sets the homogenisation of spinodoids, not the labels of {config['space']} "
                             "designs")
        config.setdefault("evaluator", {"kind": "homogenization"})["resolution"] = args.resolution
    if args.setting:
        config.setdefault("strategy_settings", {}).update(parse_params(args.setting, "--setting"))
    missing = [key for key in _REQUIRED if key not in config]
    if missing:
        raise ValueError(f"a campaign needs {', '.join(_REQUIRED[key] for key in missing)} (or the "
                         f"key{'s' * (len(missing) > 1)} {', '.join(missing)} in a --config FILE)")
    return config


def _fracture_set_up(config: dict, args: argparse.Namespace) -> None:
    """Put ``--fidelity`` and the set-up flags into the fracture evaluator of ``config``: each flag
    replaces what a ``--config`` file gave (a mesh flag the file's other mesh setting too), and
    ``--phase`` changes the file's phases."""
    flags = ["--phase" if name == "materials" else f"--{name.replace('_', '-')}" for name in setup_options(args)]
    flags += ["--fidelity"] * bool(args.fidelity)
    if not flags:
        return
    if config.get("space") == "spinodoid":
        raise ValueError(f"{', '.join(flags)} set{'s' * (len(flags) == 1)} the fracture labels of "
                         f"{' and '.join(FRACTURE_SPACES)} designs, not of spinodoids (their labeller takes --resolution)")
    evaluator = config.setdefault("evaluator", {"kind": "fracture", "fidelity": "full"})
    if not isinstance(evaluator, dict) or not isinstance(evaluator.get("options", {}), dict):
        raise ValueError("the evaluator of a --config FILE must be a JSON object with an object of options")
    evaluator["fidelity"] = args.fidelity or evaluator.get("fidelity", "full")
    given = dict(evaluator.get("options") or {})
    phases = given.get("materials")
    usable = isinstance(phases, dict) and all(isinstance(phase, dict) for phase in phases.values())
    options = setup_options(args, phases if usable else None)
    for mesh, other in (("element_size", "elements_per_block"), ("elements_per_block", "element_size")):
        if mesh in options:
            given.pop(other, None)
    evaluator["options"] = {**given, **options}


def _new(args: argparse.Namespace) -> int:
    store = open_store(args)
    campaign = Campaign.create(store, args.name, config_from_args(args))
    status = campaign.status()
    pretrain = "" if not status["pretrain"] else f", pre-trained on {status['pretrain']['designs']} fast labels"
    print(f"campaign {campaign.name}: {status['strategy']} over {status['space']} designs, {status['objective']}, "
          f"budget {_calls(status['budget'])} in batches of {campaign.config.batch_size}{pretrain}; "
          f"run it with 'matloop campaign run {campaign.name}'")
    return 0


def _best(n: int) -> str:
    """``the n best designs``, or ``the best design``."""
    return "the best design" if n == 1 else f"the {n} best designs"


def _calls(n: int) -> str:
    """``n`` solver call(s)."""
    return f"{n} solver call{'' if n == 1 else 's'}"


def _start_again(name: str) -> str:
    """How to start an outdated campaign again from the command line."""
    return (f"'matloop campaign status {name} --config FILE' writes its configuration, "
            "'matloop campaign new NEW --config FILE' starts it again")


#: Best designs shown at the end of ``matloop campaign run``.
RUN_TOP = 5


def _run(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    campaign = Campaign.open(store, args.name)
    if campaign.outdated:
        raise ValueError(f"{campaign.outdated} ({_start_again(campaign.name)})")
    line = ProgressLine(f"campaign {campaign.name}")
    if campaign.spent and campaign.state != "running":  # running: by another process, and refused below
        line(campaign.spent / campaign.config.budget, f"rebuilding its strategy from {_calls(campaign.spent)}")
    try:
        with make_executor(args.executor) as executor:
            state = campaign.run(executor, progress=line)
    except KeyboardInterrupt:
        print(f"\npaused campaign {campaign.name}: {campaign.stop_note()}; "
              f"'matloop campaign resume {campaign.name}' continues", file=sys.stderr)
        return 130
    except StoreError as exc:
        if str(exc).endswith(CANNOT_RESUME):  # its stored history does not replay
            raise StoreError(f"{exc} ({_start_again(campaign.name)})") from None
        raise
    _print_status(campaign.status())
    shown = len(campaign.best(RUN_TOP))
    if shown:
        print(f"\n{_best(shown)} ('matloop campaign report {campaign.name} --top N' for more, "
              f"'matloop campaign export' to save them):")
        _print_best(campaign, RUN_TOP)
    return 0 if state == "finished" else 1


def _print_status(status: dict) -> None:
    for key in ("name", "state", "strategy", "space", "objective", "budget", "spent", "labelled", "pending", "failed",
                "best", "best_design"):
        print(f"{key:<12} {status['best_shown' if key == 'best' else key]}")
        if key == "state" and status["runner"] is not None:
            print(f"{'runner':<12} process {status['runner']}")
    if status["pretrain"]:
        print(f"{'pretrain':<12} {status['pretrain']['labelled']}/{status['pretrain']['designs']} fast labels")
    if status["outdated"]:
        print(f"{'outdated':<12} {status['outdated']} ({_start_again(status['name'])})")


def _print_best(campaign: Campaign, top: int) -> None:
    """The table of the ``top`` best designs (:func:`best_rows`) and its notes."""
    rows = best_rows(campaign, top)
    if not rows:
        failed = sorted({r.evaluation.reason or "no reason given" for r in campaign.results() if not r.evaluation.ok})
        count = sum(not r.evaluation.ok for r in campaign.results())
        print(f"no design labelled ok yet: {count} label{'' if count == 1 else 's'} failed ({'; '.join(failed)})"
              if failed else "no labelled designs yet")
        return
    widths = [max(14, len(k)) for k in rows[0]]
    print("  ".join(f"{k:>{w}}" for k, w in zip(rows[0], widths)))
    for row in rows:
        print("  ".join(f"{v:{w}.4g}" if isinstance(v, float) else f"{v!s:>{w}}" for v, w in zip(row.values(), widths)))
    for note in (unbroken_note(rows), grip_note(rows), target_note(rows)):
        if note is not None:
            print(note)


def _status(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    if args.name:
        campaign = Campaign.open(store, args.name)
        if args.config_out:
            try:
                Path(args.config_out).write_text(json.dumps(campaign.config.to_json(), indent=2) + "\n")
            except OSError as exc:
                raise ValueError(f"cannot write {args.config_out}: {exc.strerror}") from None
            print(f"wrote {args.config_out}: the configuration of {campaign.name}", file=sys.stderr)
        _print_status(campaign.status())
        return 0
    if args.config_out:
        raise ValueError("--config writes one campaign's configuration: name the campaign")
    records = store.campaigns()
    if not records:
        print("no campaigns yet; 'matloop campaign new --help' makes one")
        return 0
    width = max(20, *(len(record["name"]) for record in records))
    print(f"{'name':<{width}} {'state':<11} {'strategy':<14} {'space':<13} {'designs':>7}  budget")
    outdated = 0
    for record in records:
        config = record["config"]
        if is_design_group(record):  # linked by matloop label --campaign: no strategy, no budget
            print(f"{record['name']:<{width}} {'group':<11} {'-':<14} {str(config.get('space'))[:13]:<13} "
                  f"{record['designs']:>7}  -  (designs linked by matloop label --campaign)")
            continue
        stale = is_outdated(store, record)
        outdated += stale
        print(f"{record['name']:<{width}} {record['state']:<11} {str(config.get('strategy'))[:14]:<14} "
              f"{str(config.get('space'))[:13]:<13} {record['designs']:>7}  {config.get('budget')}"
              + ("  (outdated)" if stale else ""))
    if outdated:
        print(f"{outdated} outdated: labelled by another solver version or settings; 'matloop campaign status NAME' "
              "says which and how to start one again")
    return 0


def _report(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ValueError(f"--top must be at least 1, got {args.top}")
    store = open_store(args, create=False)
    campaigns = [Campaign.open(store, name) for name in args.name]
    for campaign in campaigns:
        print(f"== {campaign.name}: {campaign.objective.describe(campaign.evaluator)}, "
              f"{campaign.spent}/{campaign.config.budget} solver calls, state {campaign.state}")
        if campaign.outdated:
            print(f"outdated: {campaign.outdated}")
        _print_best(campaign, args.top)
    if args.plot:
        try:
            plot_best_so_far(campaigns, args.plot)
        except OSError as exc:
            raise ValueError(f"cannot write {args.plot}: {exc.strerror}") from None
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


#: Export formats known by the suffix of the file written.
FORMAT_OF_SUFFIX = {".json": "json", ".jsonl": "jsonl", ".csv": "csv"}


def _export(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ValueError(f"--top must be at least 1, got {args.top}")
    to_stdout = args.out == "-"
    if to_stdout and args.format not in ("json", "jsonl", "csv"):
        raise ValueError("--out - writes to standard output: give --format json, jsonl or csv (stl and 3mf "
                         "write a zip: give a .zip path)")
    if args.format is None:
        suffix = Path(args.out).suffix.lower()
        if suffix not in FORMAT_OF_SUFFIX:
            raise ValueError(f"give --format ({', '.join(EXPORT_FORMATS)}): the suffix {suffix or '(none)'} of "
                             f"{args.out} does not say which (.json, .jsonl and .csv do)")
        args.format = FORMAT_OF_SUFFIX[suffix]
    if args.format in ("stl", "3mf") and Path(args.out).suffix.lower() != ".zip":
        raise ValueError(f"--format {args.format} writes a zip of {args.format.upper()} files (each design's bodies): "
                         f"give --out a .zip path, not {args.out}")
    store = open_store(args, create=False)
    campaign = Campaign.open(store, args.name)
    data = export_best(campaign, args.format, args.top)
    try:
        if to_stdout:
            sys.stdout.write(data.decode())
        else:
            Path(args.out).write_bytes(data)
    except OSError as exc:
        raise ValueError(f"cannot write {args.out}: {exc.strerror}") from None
    log = sys.stderr if to_stdout else sys.stdout
    print(f"wrote {'standard output' if to_stdout else args.out}: {_best(len(campaign.best(args.top)))} as "
          f"{args.format} ({len(data)} bytes)", file=log)
    if campaign.outdated:
        print(f"outdated: {campaign.outdated}", file=log)
    return 0
