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

__all__ = ["ThreadPool", "ThreadSettings", "thread_settings", "describe_threads"]


@dataclass(frozen=True)
class ThreadPool:
    """One native thread pool found in this process (threadpoolctl's view)."""

    api: str
    library: str
    threads: int


@dataclass(frozen=True)
class ThreadSettings:
    """Thread counts of this process."""

    torch_intra_op: int
    torch_inter_op: int
    pools: tuple[ThreadPool, ...]


def thread_settings() -> ThreadSettings:
    """Read torch's thread counts and the BLAS/OpenMP pools loaded into this process."""
    pools = tuple(
        ThreadPool(info.get("internal_api", info.get("user_api", "?")), Path(info.get("filepath", "?")).name,
                   int(info.get("num_threads", 0)))
        for info in threadpool_info()
    )
    return ThreadSettings(torch.get_num_threads(), torch.get_num_interop_threads(), pools)


def describe_threads(settings: ThreadSettings | None = None) -> str:
    """One line: torch threads, then each native pool as ``api (library) threads``."""
    settings = settings or thread_settings()
    pools = ", ".join(f"{p.api} ({p.library}) {p.threads}" for p in settings.pools) or "none loaded"
    return f"torch {settings.torch_intra_op} intra-op / {settings.torch_inter_op} inter-op; native pools: {pools}"
