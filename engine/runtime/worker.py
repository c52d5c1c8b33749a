"""Run one recorded job in this process: ``python -m engine.runtime.worker STORE JOB_ID``.

The job pool of the app starts one such process per job, so that what a job changes in its
process (torch and BLAS thread counts, caches, imported solvers) never reaches another job or
the app. The kind and parameters are read from the job's record in the store.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine.runtime.jobkinds import job_function
from engine.runtime.jobs import run_job
from engine.store import Store

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job; exit status 0 when it ended (done, failed or cancelled) and was recorded."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m engine.runtime.worker STORE JOB_ID", file=sys.stderr)
        return 2
    store = Store(args[0], create=False)
    job = store.get_job(args[1])
    try:
        function = job_function(job.kind)
    except ValueError as exc:
        store.finish_job(job.id, "failed", error=str(exc), message="failed")
        return 0
    run_job(store, job.id, function, job.params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
