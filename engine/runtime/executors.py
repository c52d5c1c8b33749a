"""Executors that run labelling tasks: a local process pool or a Dask cluster.

All of them are ``concurrent.futures.Executor`` objects, so the code that labels designs does
not care where the work runs. Tasks must be top-level, picklable functions; stochastic tasks
take an explicit seed (Dask executors are created with ``pure=False`` so identical calls are
never merged).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from engine.runtime.cpus import available_cpus

__all__ = ["EXECUTOR_HELP", "ExecutorSpec", "parse_executor_spec", "make_executor", "DaskExecutor", "LocalPool"]

#: What ``--executor`` accepts, for error messages and help texts.
EXECUTOR_HELP = (
    "'local' (process pool, one worker per usable core), 'local:N' (N workers), "
    "'dask-local' or 'dask-local:N' (a Dask LocalCluster with N workers), "
    "or a Dask scheduler address such as 'tcp://host:8786'"
)
_SPEC = re.compile(r"^(local|dask-local)(?::(\d+))?$")
_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc)://[^\s/]+$")


@dataclass(frozen=True)
class ExecutorSpec:
    """A parsed executor specification.

    Attributes
    ----------
    kind : str
        ``"local"``, ``"dask-local"`` or ``"dask-address"``.
    workers : int or None
        Requested number of workers (None: one per usable core, see engine.runtime.cpus; ignored for an address).
    address : str or None
        Scheduler address for ``"dask-address"``.
    """

    kind: str
    workers: int | None = None
    address: str | None = None

    def __str__(self) -> str:
        if self.kind == "dask-address":
            return str(self.address)
        return self.kind if self.workers is None else f"{self.kind}:{self.workers}"


def parse_executor_spec(spec: str) -> ExecutorSpec:
    """Parse and validate an executor specification.

    Parameters
    ----------
    spec : str
        See :data:`EXECUTOR_HELP`.

    Returns
    -------
    ExecutorSpec

    Raises
    ------
    ValueError
        If ``spec`` is not one of the allowed forms or asks for zero workers.
    """
    text = str(spec).strip()
    match = _SPEC.match(text)
    if match:
        workers = None if match.group(2) is None else int(match.group(2))
        if workers is not None and not 1 <= workers <= 1024:
            raise ValueError(f"executor {text!r}: the number of workers must be 1..1024")
        return ExecutorSpec(match.group(1), workers)
    if _ADDRESS.match(text):
        return ExecutorSpec("dask-address", address=text)
    raise ValueError(f"unknown executor {text!r}; allowed: {EXECUTOR_HELP}")


class DaskExecutor(Executor):
    """``concurrent.futures.Executor`` backed by a Dask client it owns.

    Parameters
    ----------
    client : distributed.Client
        Connected client; closed (with ``cluster``, if given) on :meth:`shutdown`.
    cluster : distributed.LocalCluster, optional
        Cluster started for this executor.
    """

    def __init__(self, client: Any, cluster: Any = None) -> None:
        self.client = client
        self.cluster = cluster
        self._executor = client.get_executor(pure=False)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def map(self, fn: Callable[..., Any], *iterables: Any, timeout: float | None = None,
            chunksize: int = 1) -> Iterator[Any]:
        return self._executor.map(fn, *iterables, timeout=timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    @property
    def dashboard_link(self) -> str | None:
        """URL of the Dask dashboard, when the cluster serves one."""
        return getattr(self.client, "dashboard_link", None)


class LocalPool(ProcessPoolExecutor):
    """Process pool whose workers leave Ctrl-C to the main process and end when it has gone.

    A terminal's Ctrl-C signals the whole process group. A worker waiting for work ignores it: it used to die
    with a ``KeyboardInterrupt`` traceback, and the pool, broken, then failed on the futures the main process had
    cancelled (``InvalidStateError`` in the pool's thread). A task in flight is still interrupted
    (:func:`_interruptible`), so the main process pauses at once. A worker whose main process was killed
    (``kill -9``) ends within a second instead of labelling on (:func:`_worker_start`).
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(_interruptible, fn, *args, **kwargs)


def _worker_start(main_pid: int) -> None:
    """Start of a :class:`LocalPool` worker: ignore Ctrl-C while waiting for work; end when ``main_pid`` has gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(main_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # a process of another user took the number: ours has gone
                os._exit(1)

    threading.Thread(target=watch, name="matloop-main-watch", daemon=True).start()


def _start_forkserver() -> None:
    """Start this process's fork server, if it is not running, with Ctrl-C ignored: the workers it forks then
    ignore it from their start. A worker still importing its modules (seconds on a busy machine) when Ctrl-C
    came died with a traceback, before :func:`_worker_start` could run, and broke the pool. Only the main thread
    may change how signals are handled; from another the server starts as it would."""
    if threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import forkserver

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _interruptible(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with Ctrl-C raising ``KeyboardInterrupt`` in it (sent back as the task's error)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.signal(signal.SIGINT, previous)


def make_executor(spec: str = "local", workers: int | None = None, connect_timeout: float = 10.0) -> Executor:
    """Create the executor described by ``spec``.

    Parameters
    ----------
    spec : str
        See :data:`EXECUTOR_HELP`.
    workers : int, optional
        Number of workers, overriding the count in ``spec`` (local kinds only).
    connect_timeout : float
        Seconds to wait for a remote Dask scheduler to answer.

    Returns
    -------
    concurrent.futures.Executor
        Use it as a context manager so that workers and clusters are shut down.

    Raises
    ------
    ValueError
        Unknown spec, or a scheduler address that does not answer in time.
    """
    parsed = parse_executor_spec(spec)
    count = workers if workers is not None else parsed.workers
    if parsed.kind == "local":
        # forkserver: safe to start from threaded programs (Streamlit, Dask) unlike fork.
        context = multiprocessing.get_context("forkserver")
        _start_forkserver()
        return LocalPool(max_workers=count or available_cpus(), mp_context=context, initializer=_worker_start,
                         initargs=(os.getpid(),))

    from distributed import Client, LocalCluster

    if parsed.kind == "dask-local":
        cluster = LocalCluster(
            n_workers=count or available_cpus(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        return DaskExecutor(Client(cluster), cluster)
    try:
        client = Client(parsed.address, timeout=connect_timeout)
    except (OSError, TimeoutError) as exc:
        raise ValueError(
            f"no Dask scheduler answered at {parsed.address} within {connect_timeout:g} s ({exc}); "
            "start one with 'dask scheduler' or choose another executor"
        ) from None
    return DaskExecutor(client)
