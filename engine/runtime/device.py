"""Compute-device selection for torch surrogates and GPU solvers."""

from __future__ import annotations

import torch

__all__ = ["DEVICE_CHOICES", "cuda_available", "resolve_device", "describe_device"]

#: Device specifications accepted everywhere a ``device`` argument appears.
DEVICE_CHOICES = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    """Return True when torch sees a usable CUDA device."""
    return bool(torch.cuda.is_available())


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn a device specification into a ``torch.device``.

    Parameters
    ----------
    spec : str
        ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``spec`` is not one of the allowed forms, or CUDA is asked for but absent.
    """
    if not isinstance(spec, str):
        raise ValueError(f"device must be a string, one of {DEVICE_CHOICES} or 'cuda:N'; got {spec!r}")
    text = spec.strip().lower()
    if text == "auto":
        return torch.device("cuda" if cuda_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if not cuda_available():
            raise ValueError(f"device {spec!r} requested but no CUDA device is available; use 'auto' or 'cpu'")
        index = int(text[5:]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device {spec!r} does not exist: {torch.cuda.device_count()} CUDA device(s) present"
            )
        return torch.device(text)
    raise ValueError(f"unknown device {spec!r}; allowed: {', '.join(DEVICE_CHOICES)} or 'cuda:N'")


def describe_device(spec: str = "auto") -> str:
    """One-line human description of the device ``spec`` resolves to (e.g. for ``matloop doctor``)."""
    device = resolve_device(spec)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} torch threads)"
