"""Stopping a long solve from outside: heartbeats, and waiting on code that cannot check one.

A *heartbeat* is a callable without arguments that a solver calls between the pieces of its
work; it returns nothing, or raises to stop the solve (a job's progress callback raises
:class:`engine.runtime.jobs.JobCancelled` once a cancel was requested). The solvers call it
inside a load step (every stagger iteration, every displacement-CG iteration, every 8th
damage-CG iteration) and inside a homogenisation (between stages, every block-CG iteration),
so a cancel is seen within one such piece of work.

Some pieces are one long call into compiled code: the LDLᵀ factorisation (QDLDL), the AMG
set-up (pyamg). Measured here, both release Python's lock while they work (a thread polling
every 50 ms kept its rhythm within 64 ms during a 5 s factorisation and a 6 s AMG set-up), so
:func:`interruptible` runs such a call in a helper thread and beats while it waits. A heartbeat
that raises abandons the call: the thread finishes it in the background and its result is
dropped (in a job's worker process, which ends with the job, the thread ends with it). Without
a heartbeat the call runs directly, as before: results are the same either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["Heartbeat", "interruptible"]

#: ``heartbeat()``: returns, or raises to stop the solve.
Heartbeat = Callable[[], None]
T = TypeVar("T")


def interruptible(work: Callable[[], T], heartbeat: Heartbeat | None, poll: float = 0.05) -> T:
    """``work()``, calling ``heartbeat()`` every ``poll`` seconds while it runs.

    Parameters
    ----------
    work : callable
        The long call (best one that releases Python's lock, such as a factorisation).
    heartbeat : callable or None
        Called while ``work`` runs; what it raises propagates at once (``work`` is abandoned to
        its thread). ``None``: ``work()`` is called directly in this thread.
    poll : float
        Seconds between heartbeats.

    Returns
    -------
    The value of ``work()``; an exception ``work`` raised is raised here.
    """
    if heartbeat is None:
        return work()
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="matloop-solver", daemon=True)
    thread.start()
    thread.join(poll)
    while thread.is_alive():
        heartbeat()
        thread.join(poll)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
