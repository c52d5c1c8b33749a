"""Shared fixtures. Worker processes (process pools, Dask) import test helpers from tests/."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(TESTS), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """An empty project directory for a store."""
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _main_module_kept() -> Iterator[None]:
    """Streamlit's script runner (``AppTest``) installs the page it runs as ``sys.modules["__main__"]``
    and leaves it there; a process pool started later in the same process (forkserver, spawn) would
    run that page again in each of its workers, which then die. Each test gets back the real one."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Torch on one thread for the whole run: robust on a shared 2-core machine."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def _blas_within_the_usable_cores() -> None:
    """BLAS/OpenMP pools no larger than this process's share of the cores the run may use (a CI
    container's quota may be far below the host's core count, which the pools would otherwise
    take), here and in the processes the tests start. pytest-xdist workers share the cores: with
    two workers of two OpenMP threads each on two cores the graph-network test took 601 s instead
    of 93 s."""
    from threadpoolctl import threadpool_limits

    from engine.runtime.cpus import available_cpus

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    cores = str(max(1, available_cpus() // workers))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, cores)
    threadpool_limits(int(cores))


#: Test files whose names start so drive the app in Chromium (they carry the ``browser`` mark).
BROWSER_FILES = "test_ui_browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files in the order the pytest-xdist workers should take them (``make test`` keeps it with
    ``--no-loadscope-reorder``): the browser tests first, as one unit on one worker (they keep about one
    core busy: 93 % of one measured), while the other takes the files with tests marked ``slow``, so
    that the longest work is handed out early; then the rest, in small units that end the run together.
    Last, the browser unit ran alone for 530 s of a 2293 s run while the other worker had nothing left;
    first, both workers ended within 7 s. Each file's tests stay together and in order."""
    def rank(item: pytest.Item) -> int:
        return 0 if item.path in browser else 1 if item.path in slow else 2

    browser = {item.path for item in items if item.get_closest_marker("browser")}
    misnamed = sorted(path.name for path in browser if not path.name.startswith(BROWSER_FILES))
    if misnamed:  # the scheduler below knows them by name
        raise pytest.UsageError(f"browser tests belong in files named {BROWSER_FILES}*.py: {misnamed}")
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile`` with the browser test files as one unit, run one after the other on one worker.

    Two of them side by side (two Streamlit servers, their job workers and two Chromiums on two
    cores) once left a job's result undrawn past a test's wait. (``--dist loadgroup`` would do this
    with marks, but pytest-xdist 3.8 renames the node ids the way pytest 9 no longer reads.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserFilesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "browser" if Path(path).name.startswith(BROWSER_FILES) else path

    return BrowserFilesTogether(config, log)
