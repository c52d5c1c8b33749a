"""Shared fixtures. Worker processes (process pools, Dask) import test helpers from tests/."""

from __future__ import annotations

import os
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


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Torch on one thread for the whole run: robust on a shared 2-core machine."""
    import torch

    torch.set_num_threads(1)
