"""Helpers of the page tests (AppTest): job submission recorded, nothing run."""

from __future__ import annotations

import pytest

from engine.runtime.job_pool import JobPool

__all__ = ["record_submitted_jobs"]


def _record(self: JobPool, kind: str, params: dict) -> str:
    """``JobPool.submit`` that stores the job as queued and runs nothing (the test runs it, or checks it)."""
    return self.store.create_job(kind, params)


def record_submitted_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every page's job submission only record the job in the store, for this test."""
    monkeypatch.setattr(JobPool, "submit", _record)
