"""``matloop jobs``: list, show, cancel and run background jobs recorded in the store."""

from __future__ import annotations

import argparse
import json
import time

from engine.cli.common import ProgressLine, open_store
from engine.runtime.jobkinds import JOB_KINDS, job_function
from engine.runtime.jobs import JobContext, run_job
from engine.store import JobRecord

__all__ = ["register", "parse_params", "format_job_row"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="list, show, cancel or run jobs")
    parser.add_argument("--limit", type=int, default=20, help="how many recent jobs to list")
    parser.set_defaults(func=_list)
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    show = actions.add_parser("show", help="one job in full")
    show.add_argument("job_id")
    show.set_defaults(func=_show)
    cancel = actions.add_parser("cancel", help="ask a running job to stop")
    cancel.add_argument("job_id")
    cancel.set_defaults(func=_cancel)
    run = actions.add_parser("run", help="run a job here, in the foreground, recorded in the store")
    run.add_argument("kind", choices=sorted(JOB_KINDS), help="job kind")
    run.add_argument("params", nargs="*", metavar="KEY=VALUE", help="job parameters (JSON values)")
    run.set_defaults(func=_run)


def parse_params(pairs: list[str], what: str = "job parameter") -> dict:
    """Turn ``KEY=VALUE`` strings into a dict; values are JSON, or plain strings if not JSON.

    Raises
    ------
    ValueError
        A string without ``=`` or without a key; the message calls it ``what``.
    """
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} {pair!r} is not of the form KEY=VALUE")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


def format_job_row(job: JobRecord) -> str:
    """One table row: id, kind, status, progress, start time, message."""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.created_at))
    detail = job.error or job.message
    return f"{job.id[:12]}  {job.kind:<10} {job.status:<9} {100 * job.progress:5.1f}%  {started}  {detail}"


def _list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise ValueError(f"--limit must be at least 1, got {args.limit}")
    store = open_store(args, create=False)
    store.mark_orphaned_jobs()
    jobs = store.jobs(limit=args.limit)
    if not jobs:
        print("no jobs yet")
        return 0
    print(f"{'id':<12}  {'kind':<10} {'status':<9} {'done':>6}  {'created':<19}  message")
    for job in jobs:
        print(format_job_row(job))
    return 0


def _find(args: argparse.Namespace) -> tuple:
    store = open_store(args, create=False)
    matches = [job for job in store.jobs(limit=100_000) if job.id.startswith(args.job_id)]
    if len(matches) != 1:
        raise ValueError(
            f"job id {args.job_id!r} matches {len(matches)} jobs; give more characters of the id"
            if matches else f"no job with id starting {args.job_id!r}; 'matloop jobs' lists them"
        )
    return store, matches[0]


def _show(args: argparse.Namespace) -> int:
    _, job = _find(args)
    record = {name: getattr(job, name) for name in job.__dataclass_fields__}
    print(json.dumps(record, indent=2, default=str))
    return 0


def _cancel(args: argparse.Namespace) -> int:
    store, job = _find(args)
    if job.finished:
        print(f"job {job.id} already {job.status}")
        return 0
    store.request_cancel(job.id)
    print(f"cancel requested for job {job.id}")
    return 0


def _run(args: argparse.Namespace) -> int:
    store = open_store(args)
    params = parse_params(args.params)
    function = job_function(args.kind)
    job_id = store.create_job(args.kind, params)
    line = ProgressLine(f"{args.kind} {job_id[:12]}")

    def with_progress(ctx: JobContext, **kwargs):  # noqa: ANN202 - mirrors the job function
        report = ctx.progress

        def progress(fraction: float, message: str = "") -> None:
            report(fraction, message)
            line(fraction, message)

        ctx.progress = progress  # type: ignore[method-assign]
        return function(ctx, **kwargs)

    status = run_job(store, job_id, with_progress, params)
    job = store.get_job(job_id)
    if status == "done":
        print(json.dumps(job.result, default=str)[:2000])
        return 0
    print(f"matloop: job {job_id} {status}: {job.error or job.message}")
    return 1
