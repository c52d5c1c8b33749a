"""Search spaces: the designs a campaign may propose, as strategies see them.

A space samples random designs and converts between designs and the arrays strategies work on:
integer grids for the block spaces (checkerboard soft/stiff, hierarchical building blocks),
``(rho, theta_x, theta_y, theta_z)`` vectors for spinodoids (angles in degrees, 0 = closed cone,
else 15–90; the geometry seed is fixed per campaign, so a vector names one structure).
"""

from __future__ import annotations

import itertools
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from designs.base import Design
from designs.checkerboard import Checkerboard
from designs.hierarchical import BUILDING_BLOCKS, Hierarchical
from designs.spinodal import Spinodoid

__all__ = ["SearchSpace", "GridSpace", "HierarchicalSpace", "SpinodoidSpace", "space_from_config",
           "SPACE_NAMES", "THETA_MIN_OPEN", "THETA_MAX"]

#: Smallest open cone half-angle and largest angle (degrees), as in the published data.
THETA_MIN_OPEN, THETA_MAX = 15.0, 90.0


class SearchSpace(ABC):
    """What a strategy may propose; designs are frozen and hashable."""

    #: Design space name (``Design.space``).
    name: ClassVar[str]

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> list[Design]:
        """``n`` random designs (independent, uniform in the space's own sense)."""

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """JSON description (stored with the campaign)."""

    def distinct_designs(self) -> int | None:
        """How many different designs the space holds; None where they are without number (continuous)."""
        return None

    def check(self, design: Design) -> None:
        """``ValueError`` unless ``design`` belongs to this space."""
        if getattr(design, "space", None) != self.name:
            raise ValueError(f"this campaign searches {self.name} designs, not {getattr(design, 'space', design)!r}")


@dataclass(frozen=True)
class GridSpace(SearchSpace):
    """Soft/stiff checkerboards of ``rows × columns`` blocks (0 = soft, 1 = stiff).

    Random designs draw the soft fraction uniformly from ``soft_fraction``, then that share of
    blocks exactly (so that all compositions are explored, not only the binomial middle).
    """

    rows: int = 8
    columns: int = 8
    soft_fraction: tuple[float, float] = (0.0, 1.0)
    name: ClassVar[str] = Checkerboard.space

    def __post_init__(self) -> None:
        for name in ("rows", "columns"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                    or int(value) != value or not 2 <= int(value) <= 64:
                raise ValueError(f"{name} must be an integer in 2..64, got {value!r}")
            object.__setattr__(self, name, int(value))
        try:
            lo, hi = (float(v) for v in self.soft_fraction)
        except (TypeError, ValueError):
            raise ValueError(f"soft_fraction must be a range (low, high) within [0, 1], got {self.soft_fraction!r}") \
                from None
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"soft_fraction must be a range within [0, 1], got {self.soft_fraction!r}")
        object.__setattr__(self, "soft_fraction", (lo, hi))

    def distinct_designs(self) -> int:
        """Grids of the soft-block counts the fraction range reaches (:meth:`sample` rounds the count)."""
        cells = self.rows * self.columns
        lo, hi = self.soft_fraction
        return sum(math.comb(cells, k) for k in range(round(lo * cells), round(hi * cells) + 1))

    def sample(self, n: int, rng: np.random.Generator) -> list[Design]:
        lo, hi = self.soft_fraction
        return [Checkerboard.random(self.rows, self.columns, soft_fraction=float(rng.uniform(lo, hi)), seed=rng)
                for _ in range(int(n))]

    def settings(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.columns, "soft_fraction": list(self.soft_fraction)}

    def to_grid(self, design: Checkerboard) -> np.ndarray:
        """Block grid (rows, columns) of int, row 0 at the bottom."""
        return design.as_array()

    def from_grid(self, grid: np.ndarray) -> Checkerboard:
        """Design of a grid of 0 (soft) / 1 (stiff)."""
        return Checkerboard.from_array(np.asarray(grid, dtype=int))


@dataclass(frozen=True)
class HierarchicalSpace(SearchSpace):
    """Coarse grids of the building blocks iso / stiff-x / stiff-y (Gu et al. 2018), ``sub`` × ``sub`` each."""

    rows: int = 4
    columns: int = 4
    sub: int = 2
    name: ClassVar[str] = Hierarchical.space

    def __post_init__(self) -> None:
        for name, low in (("rows", 1), ("columns", 1), ("sub", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                    or int(value) != value or not low <= int(value) <= 32:
                raise ValueError(f"{name} must be an integer in {low}..32, got {value!r}")
            object.__setattr__(self, name, int(value))

    def distinct_designs(self) -> int:
        """Coarse grids of the building blocks."""
        return len(BUILDING_BLOCKS) ** (self.rows * self.columns)

    def sample(self, n: int, rng: np.random.Generator) -> list[Design]:
        return [Hierarchical.random(self.rows, self.columns, self.sub, seed=rng) for _ in range(int(n))]

    def settings(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.columns, "sub": self.sub, "blocks": list(BUILDING_BLOCKS)}

    def to_grid(self, design: Hierarchical) -> np.ndarray:
        """Coarse grid of building-block codes (rows, columns)."""
        return np.asarray(design.grid, dtype=int)

    def from_grid(self, grid: np.ndarray) -> Hierarchical:
        """Design of a coarse grid of codes 0 (iso), 1 (stiff x), 2 (stiff y)."""
        return Hierarchical(tuple(tuple(int(v) for v in row) for row in np.asarray(grid)), self.sub)


@dataclass(frozen=True)
class SpinodoidSpace(SearchSpace):
    """Spinodoids ``(rho, theta_x, theta_y, theta_z)`` with a fixed geometry seed.

    Parameters
    ----------
    rho : (float, float)
        Solid-fraction range (the published data cover 0.3–0.9).
    geometry_seed : int
        Seed of the wave directions and phases of every proposed structure.
    """

    rho: tuple[float, float] = (0.3, 0.9)
    geometry_seed: int = 0
    name: ClassVar[str] = Spinodoid.space

    def __post_init__(self) -> None:
        try:
            lo, hi = (float(v) for v in self.rho)
        except (TypeError, ValueError):
            raise ValueError(f"rho must be a range (low, high) within (0, 1), got {self.rho!r}") from None
        if not 0.0 < lo < hi < 1.0:
            raise ValueError(f"rho must be a range (low, high) with 0 < low < high < 1, got {self.rho!r}")
        object.__setattr__(self, "rho", (lo, hi))
        seed = self.geometry_seed
        if isinstance(seed, bool) or not isinstance(seed, numbers.Real) or not math.isfinite(seed) or int(seed) != seed \
                or seed < 0:
            raise ValueError(f"geometry_seed must be an integer >= 0, got {self.geometry_seed!r}")
        object.__setattr__(self, "geometry_seed", int(self.geometry_seed))

    def bounds(self) -> np.ndarray:
        """(4, 2) lower and upper bounds of ``(rho, theta_x, theta_y, theta_z)``."""
        return np.array([self.rho, (0.0, THETA_MAX), (0.0, THETA_MAX), (0.0, THETA_MAX)])

    def sample(self, n: int, rng: np.random.Generator) -> list[Design]:
        """Uniform ρ; each cone closed with probability 1/4, else uniform in 15–90° (at least one open)."""
        out = []
        for _ in range(int(n)):
            theta = np.where(rng.random(3) < 0.25, 0.0, rng.uniform(THETA_MIN_OPEN, THETA_MAX, 3))
            if not theta.any():
                theta[rng.integers(3)] = rng.uniform(THETA_MIN_OPEN, THETA_MAX)
            out.append(self.from_vector(np.concatenate([[rng.uniform(*self.rho)], theta])))
        return out

    def settings(self) -> dict[str, Any]:
        return {"rho": list(self.rho), "geometry_seed": self.geometry_seed}

    def axis_permutations(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The relabellings of the axes other than the identity, as (vector order, axis order) pairs.

        The design with vector ``x[vector_order]`` has the cones of design ``x`` with its axes
        relabelled (new axis j = old axis p[j], p = ``axis_order``), so a quantity along the axes,
        such as the normal stiffnesses, is permuted the same way: C'_jj = C_{p_j p_j}. The two are
        equal only statistically: the geometry seed draws other waves for the relabelled cones.
        """
        return [(np.r_[0, 1 + np.array(p)], np.array(p)) for p in itertools.permutations(range(3)) if p != (0, 1, 2)]

    def to_vector(self, design: Spinodoid) -> np.ndarray:
        """``(rho, theta_x, theta_y, theta_z)`` of a design."""
        return np.array([design.rho, *design.theta])

    def from_vector(self, x: Sequence[float]) -> Spinodoid:
        """Design of a parameter vector; angles snapped as published (< 7.5° closed, 7.5–15° → 15°)."""
        x = np.asarray(x, dtype=float)
        rho = float(np.clip(x[0], *self.rho))
        theta = np.clip(x[1:], 0.0, THETA_MAX)
        theta = np.where(theta < 0.5 * THETA_MIN_OPEN, 0.0, np.maximum(theta, THETA_MIN_OPEN))
        if not theta.any():
            theta[int(np.argmax(x[1:]))] = THETA_MIN_OPEN
        return Spinodoid(rho=round(rho, 6), theta=tuple(round(float(t), 4) for t in theta), seed=self.geometry_seed)


#: Spaces by design-space name.
SPACE_NAMES: Mapping[str, type[SearchSpace]] = {cls.name: cls for cls in (GridSpace, HierarchicalSpace, SpinodoidSpace)}


def space_from_config(name: str, settings: Mapping[str, Any] | None = None) -> SearchSpace:
    """The space ``name`` with ``settings``; ``ValueError`` naming what is allowed."""
    if name not in SPACE_NAMES:
        raise ValueError(f"unknown design space {name!r}; allowed: {', '.join(SPACE_NAMES)}")
    cls = SPACE_NAMES[name]
    if settings is not None and not isinstance(settings, Mapping):
        raise ValueError(f"space_settings must be a JSON object of {name} settings, got {settings!r}")
    settings = dict(settings or {})
    settings.pop("blocks", None)
    allowed = [f for f in cls.__dataclass_fields__]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {name} space setting(s) {unknown}; allowed: {', '.join(allowed)}")
    return cls(**settings)
