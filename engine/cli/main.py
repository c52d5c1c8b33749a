"""The ``matloop`` command line: headless use on workstations and clusters.

Every sub-command lives in a module of :mod:`engine.cli` that adds its parser with a
``register(subparsers)`` function and sets ``func(args) -> int``. Errors a user can fix
(``ValueError``, including :class:`engine.store.StoreError`) are printed as one line,
``matloop: error: ...``, with exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from engine.cli import campaign, doctor, jobs, label, order, softness, spinodoid, store, track, train
from engine.runtime.config import ENV_DEVICE, ENV_EXECUTOR, ENV_STORE, settings_from_env
from engine.runtime.executors import EXECUTOR_HELP

__all__ = ["build_parser", "main"]

_COMMAND_MODULES = (doctor, store, jobs, label, spinodoid, train, campaign, order, softness, track)


class _Parser(argparse.ArgumentParser):
    """Argument mistakes as one line, ``matloop: error: ...``, exit status 2, like every other mistake."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("matloop").strip()
        self.exit(2, f"matloop: error: {where + ': ' if where else ''}{message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with the defaults taken from the environment."""
    settings = settings_from_env()
    parser = _Parser(
        prog="matloop",
        description="Closed-loop materials design: label designs with finite elements, train "
        "surrogates, search, export. Settings come from options or the environment.",
    )
    parser.add_argument(
        "--store", default=settings.store,
        help=f"project directory or .sqlite file of the campaign store (env {ENV_STORE}; "
        f"default: {settings.store})",
    )
    parser.add_argument(
        "--executor", default=settings.executor,
        help=f"where labelling runs: {EXECUTOR_HELP} (env {ENV_EXECUTOR}; default: {settings.executor})",
    )
    parser.add_argument(
        "--device", default=settings.device,
        help=f"torch device: auto, cpu, cuda or cuda:N (env {ENV_DEVICE}; default: {settings.device})",
    )
    parser.set_defaults(store_is_default=settings.store_is_default)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in _COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``matloop`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    args.store_is_default = args.store_is_default and args.store == settings_from_env().store
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"matloop: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("matloop: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0

