"""Device selection: auto falls back to the CPU; bad specifications are rejected."""

from __future__ import annotations

import pytest
import torch

from engine.runtime.device import cuda_available, describe_device, resolve_device


def test_auto_picks_cuda_only_when_present() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected == ("cuda" if cuda_available() else "cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert describe_device("cpu").startswith("cpu")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "", "tpu"])
def test_unknown_devices_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="unknown device"):
        resolve_device(spec)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no CUDA device is available"):
        resolve_device("cuda")
