"""``matloop doctor``: versions, compute device, store and executor in one report."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys

from engine.cli.common import open_store
from engine.runtime.cpus import available_cpus
from engine.runtime.executors import parse_executor_spec

__all__ = ["register", "run", "PACKAGES"]

#: Distributions whose versions the report lists.
PACKAGES = (
    "matloop", "numpy", "scipy", "scikit-fem", "torch", "deap", "scikit-learn", "pandas",
    "streamlit", "pyamg", "scikit-image", "trimesh", "plotly", "dask", "distributed",
    "freud-analysis", "trackpy",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="print versions, device, store and executor")
    parser.set_defaults(func=run)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def run(args: argparse.Namespace) -> int:
    """Print the report; exits 2 with one error line if store, executor or device is unusable."""
    from engine.runtime.device import describe_device  # imports torch: only when the report is asked for
    from engine.runtime.threads import describe_threads

    executor = parse_executor_spec(args.executor)
    device = describe_device(args.device)
    store = open_store(args)
    status = store.status()
    print(f"python     {platform.python_version()} ({sys.executable})")
    for name in PACKAGES:
        print(f"{name:<14} {_version(name)}")
    cores = available_cpus()
    print(f"cpu cores  {cores} usable" + ("" if cores == os.cpu_count() else f" (of the host's {os.cpu_count()}: "
                                                                       "affinity or container quota)"))
    print(f"device     {device}")
    print(f"threads    {describe_threads()}")
    print(f"jobs       one worker process per job, at most {cores} at once (the app)")
    print(f"executor   {executor}")
    print(f"store      {status.path} (schema v{status.schema_version}, {status.size_bytes / 1024:.0f} KiB)")
    print(
        f"           designs {status.designs}, labels {status.labels_ok} ok / {status.labels_failed} failed "
        f"({status.labels_superseded} superseded duplicates kept), "
        f"campaigns {status.campaigns}, models {status.models}, jobs {status.jobs} "
        f"({status.jobs_running} running)"
    )
    print(f"integrity  {store.integrity_check()}")
    return 0
