"""End of a displacement-controlled fracture test and the verdict on the run.

After each accepted step (force ``F`` in N/mm, peak so far ``F_max``, load ``t`` in mm) the
test ends with

- ``"failure"`` (``stop="full"``) or ``"peak"`` (``stop="peak"``) once ``F < F_max`` and
  ``F < fraction * F_max``, where ``fraction`` is ``end_fraction`` or ``peak_drop``;
- ``"through_crack"`` (only with ``through_crack`` set) once the crack from the notch tip has
  reached the plate boundary (:class:`fem.phasefield_crack.ThroughCrack`);
- ``"max_displacement"`` once ``t`` reaches ``max_displacement``;
- ``"max_steps"`` when the step budget runs out first (then the run failed), or ``"error"``
  on a numerical breakdown.

A run also failed when more than ``max_nonconverged`` steps were accepted without stagger
convergence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fem.phasefield import SolverOptions

__all__ = ["EndCriteria"]


@dataclass(frozen=True)
class EndCriteria:
    """When a test ends, whether it succeeded, and how far along it is.

    Parameters
    ----------
    stop : {"full", "peak"}
        Run through failure (toughness) or only past the peak (strength).
    end_fraction : float
        ``stop="full"`` ends when the force falls below this fraction of the peak.
    peak_drop : float
        ``stop="peak"`` ends when the force falls below this fraction of the peak.
    max_displacement : float
        Hard end of the test (mm).
    max_steps : int
        Budget of accepted load steps.
    max_nonconverged : int
        Most steps accepted without stagger convergence in a successful run.
    through_crack : bool
        Also end the test once the crack from the notch tip has reached the plate boundary.
    """

    stop: Literal["full", "peak"]
    end_fraction: float
    peak_drop: float
    max_displacement: float
    max_steps: int
    max_nonconverged: int
    through_crack: bool = False

    @classmethod
    def from_options(cls, opts: SolverOptions) -> EndCriteria:
        """The end criteria set in :class:`fem.phasefield.SolverOptions` ``opts``."""
        return cls(opts.stop, opts.end_fraction, opts.peak_drop, opts.max_displacement, opts.max_steps,
                   opts.max_nonconverged, opts.through_crack)

    @property
    def watches_through_crack(self) -> bool:
        """Whether a crack from the notch tip that reaches the boundary ends the test."""
        return self.through_crack and self.stop == "full"

    @property
    def fraction(self) -> float:
        """Fraction of the peak force below which the test ends (``peak_drop`` or ``end_fraction``)."""
        return self.peak_drop if self.stop == "peak" else self.end_fraction

    def after_step(self, force: float, peak: float, load: float, through: bool = False) -> str | None:
        """End criterion met by an accepted step, or ``None`` to go on.

        Parameters
        ----------
        force : float
            Reaction force of the step (N/mm).
        peak : float
            Largest force so far, this step included (N/mm).
        load : float
            Top displacement of the step (mm).
        through : bool
            Whether the crack from the notch tip has reached the boundary (counts only with
            ``through_crack`` set).

        Returns
        -------
        str or None
            ``"peak"`` / ``"failure"``, ``"through_crack"``, ``"max_displacement"`` or ``None``.
        """
        if force < peak and force < self.fraction * peak:
            return "peak" if self.stop == "peak" else "failure"
        if through and self.watches_through_crack:
            return "through_crack"
        if load >= self.max_displacement - 1e-15:
            return "max_displacement"
        return None

    def verdict(self, end: str, nonconverged: int) -> tuple[str, str]:
        """``(status, reason)`` of a run that ended by ``end`` (not ``"error"``).

        Parameters
        ----------
        end : str
            End criterion reached (``"max_steps"`` when none was).
        nonconverged : int
            Steps accepted without stagger convergence.

        Returns
        -------
        tuple of str
            ``("ok", "")`` or ``("failed", why)``.
        """
        if nonconverged > self.max_nonconverged:
            return "failed", f"stagger did not converge in {nonconverged} steps (limit {self.max_nonconverged})"
        if end == "max_steps":
            return "failed", f"end criterion not reached in {self.max_steps} steps"
        return "ok", ""

    def progress(self, steps: int, force: float, peak: float) -> float:
        """Rough fraction done: up to 0.4 before the peak, the rest as the force falls.

        Parameters
        ----------
        steps : int
            Accepted load steps.
        force, peak : float
            Force of the last step and peak force so far (N/mm).

        Returns
        -------
        float
            ``0.4 (1 - exp(-steps/30))`` before the peak, then ``0.4 + 0.6`` times the share of
            the way from the peak down to ``fraction * peak``, at most 0.99.
        """
        if peak <= 0 or force >= peak:
            return 0.4 * (1.0 - math.exp(-steps / 30.0))
        return min(0.99, 0.4 + 0.6 * (1.0 - force / peak) / (1.0 - self.fraction))
