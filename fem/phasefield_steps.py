"""Load stepping of a displacement-controlled test: step size control and drop bisection.

Step sizes follow the damage growth of the last accepted step: ``du`` is scaled by
``target_dd / growth`` (at most 4x up or down, 4x up when nothing grew) and clipped to
``[du_min, du_max]``. A step in which the force falls by more than ``drop_tol`` times the peak
is rejected and the bracket ``(t, t_drop]`` that holds the drop is bisected (rejecting falls of
``drop_tol / 4`` there) until it is one fine step ``du_fine`` wide, so sudden drops (unstable
crack growth) are located to within ``du_fine`` whatever ``du_max`` is. Loads in mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fem.phasefield import SolverOptions

__all__ = ["LoadStepper"]


@dataclass
class LoadStepper:
    """Chooses the load of each step from the accepted and rejected ones before it.

    Parameters
    ----------
    du_max, du_min : float
        Largest and smallest step (mm); the first step is ``du_max / 4``.
    du_fine : float
        Finest step of the drop bisection (mm).
    target_dd : float
        Wanted largest damage increase per step (dimensionless).
    drop_tol : float
        Largest fall of the force within a step, as a fraction of the peak, before the step
        is rejected (a quarter of it while a drop is bracketed).
    max_displacement : float
        No load beyond this (mm).

    Attributes
    ----------
    t, t_prev : float
        Loads of the last two accepted steps (mm), 0 at the start.
    du : float
        Size of the next step (mm).
    t_drop : float or None
        Load of the last rejected step while the drop it holds is being bracketed.
    rejected : int
        Steps rejected so far.
    """

    du_max: float
    du_min: float
    du_fine: float
    target_dd: float
    drop_tol: float
    max_displacement: float
    t: float = field(default=0.0, init=False)
    t_prev: float = field(default=0.0, init=False)
    du: float = field(init=False)
    t_drop: float | None = field(default=None, init=False)
    rejected: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.du = self.du_max / 4

    @classmethod
    def from_options(cls, opts: SolverOptions) -> LoadStepper:
        """The stepper set in :class:`fem.phasefield.SolverOptions` (``du_fine=None``: ``du_max / 64``)."""
        du_fine = opts.du_max / 64 if opts.du_fine is None else opts.du_fine
        return cls(opts.du_max, opts.du_min, du_fine, opts.target_dd, opts.drop_tol, opts.max_displacement)

    def next_load(self) -> float:
        """Load of the next step (mm), at most ``max_displacement``."""
        return min(self.t + self.du, self.max_displacement)

    def is_fine(self, t_new: float) -> bool:
        """Whether the step to ``t_new`` is no larger than ``du_fine`` (it is never rejected)."""
        return t_new - self.t <= self.du_fine * (1 + 1e-9)

    def drop_limit(self) -> float:
        """Fall of the force within a step, as a fraction of the peak, that rejects it."""
        # while a drop is bracketed, a smaller fall already marks it (cheaper rejections)
        return self.drop_tol if self.t_drop is None else 0.25 * self.drop_tol

    def reject(self, t_new: float) -> None:
        """The step to ``t_new`` held a drop: halve it (not below ``du_fine``)."""
        self.rejected += 1
        self.t_drop = t_new
        self.du = max(self.du_fine, (t_new - self.t) / 2)

    def accept(self, t_new: float, growth: float) -> None:
        """The step to ``t_new`` is done; its largest damage increase was ``growth``."""
        self.t_prev, self.t = self.t, t_new
        scale = 4.0 if growth < 1e-12 else min(4.0, max(0.25, self.target_dd / growth))
        self.du = float(np.clip((self.t - self.t_prev) * scale, self.du_min, self.du_max))
        if self.t_drop is not None:
            gap = self.t_drop - self.t
            if gap <= 1e-15 * max(1.0, self.t):
                self.t_drop = None  # the fine step that holds the drop is done
            else:
                self.du = gap if gap <= self.du_fine * (1 + 1e-9) else min(self.du, gap / 2)
