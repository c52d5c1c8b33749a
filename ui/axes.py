"""Axis helpers shared by the pages' Plotly figures."""

from __future__ import annotations

import numpy as np

__all__ = ["log_ticks"]


def log_ticks(values: np.ndarray) -> dict:
    """Tick values of a log axis spanning ``values`` written in full (0.05, not "5"): 1, 2, 5 per decade,
    1 per decade beyond three decades; nothing (Plotly's own) when fewer than two fall in the range."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return {}
    low, high = float(values.min()), float(values.max())
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    steps = (1, 2, 5) if last - first <= 3 else (1,)
    ticks = [m * 10.0**e for e in range(first, last + 1) for m in steps if low / 1.05 <= m * 10.0**e <= high * 1.05]
    if len(ticks) < 2:
        return {}
    return {"tickmode": "array", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}
