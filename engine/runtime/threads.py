"""The thread settings of this process: torch intra- and inter-op threads, BLAS/OpenMP pools.

Solvers set these for the span of a call (:func:`fem.spmm.torch_threads`, threadpoolctl); the
app runs each job in a process of its own (:mod:`engine.runtime.job_pool`) so that no setting
reaches another job. ``matloop doctor`` prints :func:`describe_threads`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from threadpoolctl import threadpool_info

__all__ = ["ThreadSettings", "thread_settings", "describe_threads"]


@dataclass(frozen=True)
class ThreadSettings:
    """Thread counts of this process.

    Attributes
    ----------
    torch_intra_op, torch_inter_op : int
        torch's thread counts.
    pools : tuple of (str, str, int)
        Native thread pools (threadpoolctl's view): API (e.g. ``openblas``, ``openmp``),
        library file name, threads.
    """

    torch_intra_op: int
    torch_inter_op: int
    pools: tuple[tuple[str, str, int], ...]


def thread_settings() -> ThreadSettings:
    """Read torch's thread counts and the BLAS/OpenMP pools loaded into this process."""
    pools = tuple(
        (info.get("internal_api", info.get("user_api", "?")), Path(info.get("filepath", "?")).name,
         int(info.get("num_threads", 0)))
        for info in threadpool_info()
    )
    return ThreadSettings(torch.get_num_threads(), torch.get_num_interop_threads(), pools)


def describe_threads(settings: ThreadSettings | None = None) -> str:
    """One line: torch threads, then each native pool as ``api (library) threads``."""
    settings = settings or thread_settings()
    pools = ", ".join(f"{api} ({library}) {threads}" for api, library, threads in settings.pools) or "none loaded"
    return f"torch {settings.torch_intra_op} intra-op / {settings.torch_inter_op} inter-op; native pools: {pools}"
