"""What the store hands out: solver keys, label and job records, store counts.

Frozen dataclasses with no database code, so that evaluators, jobs and pages can use them
without opening a connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designs.base import canonical_json

__all__ = ["JOB_STATES", "FINISHED_JOB_STATES", "SolverKey", "StoredKey", "DesignRecord", "LabelRecord", "JobRecord", "StoreStatus",
           "same_labels"]

#: Every state a job can be in.
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
#: States a job does not leave.
FINISHED_JOB_STATES = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class SolverKey:
    """Identity of a labelling solver configuration.

    Two labels with equal keys are interchangeable, so a design is labelled at most once per key.

    Attributes
    ----------
    name : str
        Solver name, e.g. ``"phasefield-at2"``.
    version : str
        Solver version; bump it when results change.
    fidelity : str
        Fidelity level, e.g. ``"fast"``, ``"strength"``, ``"full"``.
    config : Mapping
        JSON-serialisable solver settings that change the result (materials, mesh, ...).
    """

    name: str
    version: str
    fidelity: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def config_hash(self) -> str:
        """SHA-256 hex digest of the canonical JSON of ``config``."""
        return hashlib.sha256(canonical_json(dict(self.config)).encode()).hexdigest()


def same_labels(a: SolverKey | StoredKey, b: SolverKey | StoredKey) -> bool:
    """Whether two keys name the same labels: solver, version, fidelity and settings hash all equal."""
    return (a.name, a.version, a.fidelity, a.config_hash) == (b.name, b.version, b.fidelity, b.config_hash)


@dataclass(frozen=True)
class DesignRecord:
    """A stored design: content ``hash``, ``space``, canonical ``genome`` and ``created_at`` (UNIX seconds)."""

    hash: str
    space: str
    genome: Any
    created_at: float


@dataclass(frozen=True)
class StoredKey:
    """The key of labels already in a store, named by the hash of its settings.

    What a :class:`SolverKey` becomes once its solver version is gone from the code: its labels
    can still be read (:meth:`engine.store.Store.labels`) but no longer made.
    """

    name: str
    version: str
    fidelity: str
    config_hash: str


@dataclass(frozen=True)
class LabelRecord:
    """A stored label. ``metrics`` holds the solver's JSON output; ``wall_time`` is in seconds."""

    design_hash: str
    solver: str
    solver_version: str
    fidelity: str
    config_hash: str
    status: str
    reason: str | None
    metrics: dict[str, Any]
    wall_time: float | None
    created_at: float


@dataclass(frozen=True)
class JobRecord:
    """A background job as stored. Times are UNIX seconds; ``progress`` is in [0, 1].

    ``owner_pid`` and ``owner_host`` (host name and PID namespace) name the process that runs
    the job, or that will start it while it is queued.
    """

    id: str
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    cancel_requested: bool
    error: str | None
    result: Any
    created_at: float
    started_at: float | None
    finished_at: float | None
    owner_pid: int | None
    owner_host: str | None = None

    @property
    def finished(self) -> bool:
        """True once the job is done, failed or cancelled."""
        return self.status in FINISHED_JOB_STATES


@dataclass(frozen=True)
class StoreStatus:
    """Counts and facts shown by ``matloop doctor`` and the home page."""

    path: Path
    schema_version: int
    size_bytes: int
    designs: int
    labels_ok: int
    labels_failed: int
    labels_superseded: int
    campaigns: int
    models: int
    jobs: int
    jobs_running: int
