"""Helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys

from engine.store import Store

__all__ = ["open_store", "ProgressLine", "write_table"]


def open_store(args: argparse.Namespace, *, create: bool = True) -> Store:
    """Open the store named by ``--store``; the default project directory is created if missing."""
    return Store(args.store, create=create, create_directory=bool(getattr(args, "store_is_default", False)))


def write_table(table, out) -> None:  # noqa: ANN001 - a pandas DataFrame, a path
    """Write a table as CSV; ``ValueError`` with the reason when the file cannot be written."""
    try:
        table.to_csv(out, index=False)
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc.strerror or exc}") from None


class ProgressLine:
    """Progress on one terminal line (plain lines when the output is not a terminal).

    Parameters
    ----------
    label : str
        Text in front of the bar.
    stream : file-like, optional
        Where to write; standard error by default.
    """

    def __init__(self, label: str, stream=None) -> None:  # noqa: ANN001 - any text stream
        self.label = label
        self.stream = stream or sys.stderr
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_percent = -1

    def __call__(self, fraction: float, message: str = "") -> None:
        percent = int(round(100 * min(max(fraction, 0.0), 1.0)))
        if self._tty:
            bar = "#" * (percent // 4)
            self.stream.write(f"\r{self.label} [{bar:<25}] {percent:3d}% {message[:60]:<60}")
            if percent >= 100:
                self.stream.write("\n")
        elif percent // 10 != self._last_percent // 10 or percent == 100:
            self.stream.write(f"{self.label} {percent:3d}% {message}\n")
        self._last_percent = percent
        self.stream.flush()
