"""The kinds of background job the app and the command line can start, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.runtime.demo import demo_job
from engine.evaluators.fracture import label_fracture_job
from engine.runtime.jobs import JobFunction
from engine.evaluators.spinodoid import homogenize_job
from engine.surrogates.training import train_grid_job

__all__ = ["JOB_KINDS", "job_function"]

#: Read-only registry: job kind → function ``fn(ctx, **params)``.
JOB_KINDS: Mapping[str, JobFunction] = MappingProxyType(
    {
        "demo": demo_job,
        "label-fracture": label_fracture_job,
        "homogenize-spinodoid": homogenize_job,
        "train-grid": train_grid_job,
    }
)


def job_function(kind: str) -> JobFunction:
    """Look up the function of a job kind; ``ValueError`` naming the known kinds otherwise."""
    try:
        return JOB_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(JOB_KINDS))}") from None
