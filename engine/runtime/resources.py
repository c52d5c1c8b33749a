"""The machine's memory budget and the check that refuses a job which cannot fit it.

A job is refused before it starts when its estimated peak memory (:mod:`fem.cost`) exceeds the
budget: by default :data:`MEMORY_FRACTION` (half) of the memory available when the job is
checked (``psutil.virtual_memory().available``, else ``MemAvailable`` of ``/proc/meminfo``,
else all physical memory; capped by a cgroup memory limit where one is set). Half leaves room
for the app, a second job on the other core and the error of the estimate (within 10 % of the
measured peak up to 512² plates, extrapolated beyond). The environment variable
``MATLOOP_MEMORY_BUDGET`` replaces it with a fixed size (``"16GB"``, ``"500 MB"``,
``"2GiB"``, or bytes; units are binary: 1 GB = 2³⁰ B): for a cluster node whose share is
known, or to make "the largest allowed job" small in tests.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fem.cost import format_bytes

__all__ = ["ENV_MEMORY_BUDGET", "MEMORY_FRACTION", "MemoryBudget", "check_fits", "memory_budget", "parse_size"]

ENV_MEMORY_BUDGET = "MATLOOP_MEMORY_BUDGET"
#: Share of the available memory one job may use.
MEMORY_FRACTION = 0.5

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}


class _Cost(Protocol):
    memory: float

    def describe(self) -> str: ...


@dataclass(frozen=True)
class MemoryBudget:
    """Memory one job may use.

    Attributes
    ----------
    bytes : float
        The budget (B).
    source : str
        Where it comes from, for messages (e.g. ``"half of the 23 GB available"``).
    """

    bytes: float
    source: str

    def __str__(self) -> str:
        return f"{format_bytes(self.bytes)} ({self.source})"


def parse_size(text: str) -> float:
    """Bytes of a size such as ``"16GB"``, ``"500 MB"``, ``"2GiB"`` or ``"123456"`` (binary units).

    Raises
    ------
    ValueError
        Not a positive size.
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS or not (value := float(match.group(1)) * _UNITS[unit]) > 0:
        raise ValueError(f"{ENV_MEMORY_BUDGET} must be a positive size such as 16GB, 500MB or 123456 (bytes), "
                         f"got {text!r}")
    return value


def _available() -> float:
    try:
        import psutil
        return float(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def _cgroup_room() -> float:
    """Memory left under this process's cgroup limit (v2 or v1); infinite without one."""
    v1 = "/sys/fs/cgroup/memory/memory."
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         (f"{v1}limit_in_bytes", f"{v1}usage_in_bytes")):
        try:
            cap = Path(limit).read_text().strip()
            used = float(Path(usage).read_text().strip())
        except (OSError, ValueError):
            continue
        if cap.isdigit() and int(cap) < 2**60:
            return max(float(cap) - used, 0.0)
    return math.inf


def memory_budget(environ: Mapping[str, str] | None = None) -> MemoryBudget:
    """The memory a job may use now: ``MATLOOP_MEMORY_BUDGET`` or half of the available memory.

    Raises
    ------
    ValueError
        ``MATLOOP_MEMORY_BUDGET`` is set to something that is not a size.
    """
    env = os.environ if environ is None else environ
    text = env.get(ENV_MEMORY_BUDGET, "").strip()
    if text:
        return MemoryBudget(parse_size(text), f"{ENV_MEMORY_BUDGET}={text}")
    available = min(_available(), _cgroup_room())
    return MemoryBudget(MEMORY_FRACTION * available,
                        f"half of the {format_bytes(available)} of memory available now; {ENV_MEMORY_BUDGET} sets it")


def check_fits(cost: _Cost, largest: str | None = None, budget: MemoryBudget | None = None) -> None:
    """Refuse a job whose estimated memory exceeds the budget.

    Parameters
    ----------
    cost : fem.cost.Cost
        The estimate (``memory`` in bytes and ``describe()``).
    largest : str, optional
        What would fit instead, appended to the message (e.g. ``"at most 96 voxels per side"``).
    budget : MemoryBudget, optional
        Default :func:`memory_budget`.

    Raises
    ------
    ValueError
        One line with the estimate, the budget and, if given, what fits.
    """
    budget = memory_budget() if budget is None else budget
    if cost.memory > budget.bytes:
        tail = f"; {largest}" if largest else ""
        raise ValueError(f"too large for this machine: {cost.describe()}, more than the memory budget of "
                         f"{budget}{tail}")
