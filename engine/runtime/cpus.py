"""How many CPU cores this process may use: its affinity mask, capped by a container's CPU quota.

``os.cpu_count()`` counts the host's cores. In a container limited by a cgroup CPU quota (CI
runners, Kubernetes pods, ``docker run --cpus 2``) that can be many more than the process may
use, and pools sized by it (worker processes, BLAS threads) oversubscribe the cores it has.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["available_cpus", "cgroup_cpu_limit"]

_CGROUP = Path("/sys/fs/cgroup")


def cgroup_cpu_limit(root: Path = _CGROUP) -> int | None:
    """Cores allowed by the cgroup CPU quota under ``root`` (rounded up), or None without a quota.

    Reads cgroup v2 ``cpu.max`` (``"<quota> <period>"`` or ``"max <period>"``), else cgroup v1
    ``cpu/cpu.cfs_quota_us`` and ``cpu/cpu.cfs_period_us`` (quota -1: none). Unreadable or
    malformed files count as no quota.
    """
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else max(1, math.ceil(quota_us / period_us))


def available_cpus(root: Path = _CGROUP) -> int:
    """Cores this process may use: the CPUs of its affinity mask, at most the cgroup quota (at least 1)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limit = cgroup_cpu_limit(root)
    return max(1, cores if limit is None else min(cores, limit))
