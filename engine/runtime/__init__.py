"""Where and how work runs: settings, devices, threads, executors and background jobs.

- :mod:`.config` — store, executor and device settings from ``MATLOOP_*`` variables.
- :mod:`.device` — torch device selection (CUDA when present).
- :mod:`.threads` — the thread settings of this process (torch, BLAS), reported by ``doctor``.
- :mod:`.executors` — labelling executors: a local process pool or a Dask cluster.
- :mod:`.jobs` — a job's life in the store: progress, cancellation, result or error.
- :mod:`.job_pool` — jobs of the app run in worker processes, one process per job.
- :mod:`.jobkinds` — the kinds of job by name (the app and ``matloop jobs run`` start them).
- :mod:`.demo` — a demonstration job with a checkable answer.
"""
