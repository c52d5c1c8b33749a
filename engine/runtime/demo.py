"""A demonstration job: a few seconds of real numerical work with a checkable answer.

Each step draws a random symmetric matrix from the Gaussian orthogonal ensemble (off-diagonal
variance 1) and computes its spectrum. Wigner's semicircle law puts the largest eigenvalue of
an n×n such matrix at 2√n for large n, so the job's result, the mean ratio λ_max / (2√n),
tends to 1 (finite-size corrections are O(n^(-2/3))).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.runtime.jobs import JobContext

__all__ = ["DEMO_DEFAULTS", "demo_job", "demo_task", "goe_edge_ratio"]

#: Default parameters: about 3-5 s on two cores.
DEMO_DEFAULTS: dict[str, Any] = {"steps": 50, "size": 1000, "seed": 0}


def goe_edge_ratio(size: int, rng: np.random.Generator) -> float:
    """λ_max / (2√n) of one GOE matrix of order ``size`` (dimensionless, → 1 for large n)."""
    a = rng.standard_normal((size, size))
    h = (a + a.T) / np.sqrt(2.0)
    return float(np.linalg.eigvalsh(h)[-1] / (2.0 * np.sqrt(size)))


def demo_job(ctx: JobContext, steps: int = 50, size: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Spectra of ``steps`` GOE matrices of order ``size``, with progress after each.

    Parameters
    ----------
    ctx : JobContext
        Progress and cancellation handle.
    steps : int
        Number of matrices (1..10000).
    size : int
        Matrix order (2..5000).
    seed : int
        Seed of the random generator.

    Returns
    -------
    dict
        ``ratios`` (one per step), ``mean_ratio`` and ``std_ratio``.
    """
    if not 1 <= int(steps) <= 10_000:
        raise ValueError(f"steps must be in 1..10000, got {steps}")
    if not 2 <= int(size) <= 5_000:
        raise ValueError(f"size must be in 2..5000, got {size}")
    rng = np.random.default_rng(seed)
    ratios = []
    for step in range(int(steps)):
        ratios.append(goe_edge_ratio(int(size), rng))
        ctx.progress((step + 1) / steps, f"matrix {step + 1}/{steps}: λmax/2√n = {ratios[-1]:.4f}")
    return {"ratios": ratios, "mean_ratio": float(np.mean(ratios)), "std_ratio": float(np.std(ratios))}


def demo_task(seed: int, size: int = 200) -> float:
    """Picklable task for executors: ``goe_edge_ratio`` of one matrix drawn with ``seed``."""
    return goe_edge_ratio(size, np.random.default_rng(seed))
