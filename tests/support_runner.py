"""A campaign held running by another live process (as ``matloop campaign run`` in another terminal holds it)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["campaign_run_elsewhere"]

_HOLD = """
import sys
from engine.store import Store
store = Store(sys.argv[1], create=False)
store.set_campaign_state(store.campaign(sys.argv[2])["id"], "running")
print("running", flush=True)
sys.stdin.readline()
"""


@contextmanager
def campaign_run_elsewhere(store_dir: Path, name: str) -> Iterator[subprocess.Popen]:
    """A process that marks campaign ``name`` running and holds it until the block ends; then it is killed
    (SIGKILL) and reaped, so the campaign was left running by a process that has exited."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(store_dir), name], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        if holder.stdout.readline().strip() != "running":
            raise RuntimeError(f"the holding process exited with {holder.wait()}")
        yield holder
    finally:
        holder.kill()
        holder.wait()  # reaped: a zombie would still answer signal 0
