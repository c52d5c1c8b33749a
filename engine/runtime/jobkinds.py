"""The kinds of background job the app and the command line can start, by name.

The table names each job function by module and attribute; it is imported only when a job of
that kind runs (in the worker process that runs it), so this module imports nothing of the
evaluators or surrogates and the runtime stays below them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from engine.runtime.jobs import JobFunction

__all__ = ["JOB_KINDS", "job_function"]

#: Read-only registry: job kind → ``"module:function"`` of ``fn(ctx, **params)``.
JOB_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "demo": "engine.runtime.demo:demo_job",
        "label-fracture": "engine.evaluators.fracture:label_fracture_job",
        "label-batch": "engine.evaluators.fracture_batch:label_batch_job",
        "homogenize-spinodoid": "engine.evaluators.spinodoid:homogenize_job",
        "train-grid": "engine.surrogates.training:train_grid_job",
        "run-campaign": "engine.campaigns.jobs:campaign_job",
        "identify-structures": "engine.analysis.ordering.classify_job:classify_order_job",
        "glass-softness": "engine.analysis.softness.softness_job:softness_job",
        "glass-softness-train": "engine.analysis.softness.train_job:train_job",
        "characterise-hologram": "engine.analysis.tracking.hologram_job:hologram_job",
    }
)


def job_function(kind: str) -> JobFunction:
    """Look up (and import) the function of a job kind; ``ValueError`` naming the known kinds otherwise."""
    try:
        module, name = JOB_KINDS[kind].split(":")
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(JOB_KINDS))}") from None
    return getattr(importlib.import_module(module), name)
