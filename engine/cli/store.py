"""``matloop store init|info|check``: create and inspect the campaign store."""

from __future__ import annotations

import argparse

from engine.cli.common import open_store
from engine.store import Store

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("store", help="create or inspect the campaign store")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    actions.add_parser("init", help="create the store (or migrate an old one)").set_defaults(func=_init)
    actions.add_parser("info", help="what the store holds").set_defaults(func=_info)
    actions.add_parser("check", help="SQLite integrity check").set_defaults(func=_check)


def _init(args: argparse.Namespace) -> int:
    store = Store(args.store, create_directory=True)
    print(f"store ready: {store.path} (schema v{store.status().schema_version})")
    return 0


def _info(args: argparse.Namespace) -> int:
    status = open_store(args, create=False).status()
    for name in ("path", "schema_version", "size_bytes", "designs", "labels_ok", "labels_failed",
                 "labels_superseded", "campaigns", "models", "jobs", "jobs_running"):
        print(f"{name:<15} {getattr(status, name)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    result = open_store(args, create=False).integrity_check()
    print(f"integrity: {result}")
    return 0 if result == "ok" else 1
