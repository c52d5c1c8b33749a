"""Uploaded files kept beside the store: checked suffix and size, named by their content."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["keep_upload"]


def keep_upload(directory: Path, filename: str, data: bytes, formats: Sequence[str], max_bytes: int) -> Path:
    """Write an upload as ``<directory>/<sha256 prefix>.<suffix>`` and return the path.

    Parameters
    ----------
    directory : Path
        Folder for uploads (created if missing).
    filename : str
        The name the user gave the file; its suffix must be one of ``formats``.
    data : bytes
        File contents, at most ``max_bytes``.
    formats : sequence of str
        Allowed suffixes, without the dot.
    max_bytes : int
        Largest size accepted.

    Raises
    ------
    ValueError
        An unknown suffix or a file too large (the message names the file as the user called it).
    """
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise ValueError(f"{filename}: unknown configuration format {suffix or '(no suffix)'!r}; allowed: "
                         + ", ".join(f".{f}" for f in formats))
    if len(data) > max_bytes:
        raise ValueError(f"{filename} is {len(data) / 2**20:.1f} MiB; at most {max_bytes // 2**20} MiB allowed")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{hashlib.sha256(data).hexdigest()[:16]}.{suffix}"
    path.write_bytes(data)
    return path
