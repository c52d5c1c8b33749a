"""Hierarchical composites (Gu, Chen & Buehler 2018, Materials Horizons).

A coarse grid of three building blocks, each expanded into an ``s×s`` soft/stiff
sub-pattern (``s = sub``, default 2) so that the checkerboard solver labels it. With soft = 0,
stiff = 1 and sub-cell ``(i, j)`` (row ``i`` from the bottom, column ``j`` from the left):

- ``"iso"`` (0): checkerboard, stiff where ``(i + j)`` is even — no preferred direction;
- ``"x"`` (1): stiff along x, stiff where ``i`` is even — continuous stiff rows (bands along x);
- ``"y"`` (2): stiff along y, stiff where ``j`` is even — continuous stiff columns.

Every building block is half stiff, so all hierarchical designs have the same composition and
differ only in arrangement. A 4×4 coarse grid with ``sub=2`` gives an 8×8 checkerboard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from designs.base import GenomeIdentity
from designs.checkerboard import DEFAULT_PALETTE, Checkerboard

__all__ = ["Hierarchical", "BUILDING_BLOCKS", "sub_pattern"]

BUILDING_BLOCKS: tuple[str, ...] = ("iso", "x", "y")


def sub_pattern(block: int | str, sub: int = 2) -> np.ndarray:
    """The ``sub×sub`` soft(0)/stiff(1) pattern of a building block (row 0 at the bottom).

    Parameters
    ----------
    block : int or str
        ``0``/``"iso"``, ``1``/``"x"`` or ``2``/``"y"``.
    sub : int
        Fine cells per coarse block side, >= 2.
    """
    if isinstance(block, str):
        if block not in BUILDING_BLOCKS:
            raise ValueError(f"unknown building block {block!r}; allowed {list(BUILDING_BLOCKS)}")
        block = BUILDING_BLOCKS.index(block)
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or not 0 <= block < 3:
        raise ValueError(f"unknown building block {block!r}; allowed 0, 1, 2 = {list(BUILDING_BLOCKS)}")
    if int(sub) != sub or sub < 2:
        raise ValueError(f"sub must be an integer >= 2, got {sub!r}")
    i, j = np.indices((sub, sub))
    pat = [(i + j) % 2 == 0, i % 2 == 0, j % 2 == 0][int(block)]
    return pat.astype(int)


@dataclass(frozen=True)
class Hierarchical(GenomeIdentity):
    """Coarse grid of building blocks (indices into :data:`BUILDING_BLOCKS`).

    Parameters
    ----------
    grid : tuple of tuple of int
        Coarse block codes, rows from the bottom; at least 1×1, rectangular.
    sub : int
        Fine cells per coarse block side (>= 2); the fine grid must be at least 2×2.
    """

    space: ClassVar[str] = "hierarchical"
    grid: tuple[tuple[int, ...], ...]
    sub: int = 2

    def __post_init__(self) -> None:
        rows = self.grid.tolist() if isinstance(self.grid, np.ndarray) else self.grid
        if not isinstance(rows, (tuple, list)) or len(rows) == 0:
            raise ValueError("grid must be a non-empty list of rows")
        if any(not isinstance(r, (tuple, list, np.ndarray)) or len(r) == 0 for r in rows):
            raise ValueError("grid rows must be non-empty lists of building block codes")
        widths = {len(r) for r in rows}
        if len(widths) != 1:
            raise ValueError(f"grid is ragged: row lengths {sorted(widths)}")
        clean = []
        for r in rows:
            row = []
            for v in r:
                if isinstance(v, str) and v in BUILDING_BLOCKS:
                    v = BUILDING_BLOCKS.index(v)
                if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 0 <= int(v) < 3:
                    raise ValueError(f"unknown building block {v!r}; allowed 0, 1, 2 = {list(BUILDING_BLOCKS)}")
                row.append(int(v))
            clean.append(tuple(row))
        if isinstance(self.sub, bool) or int(self.sub) != self.sub or self.sub < 2:
            raise ValueError(f"sub must be an integer >= 2, got {self.sub!r}")
        object.__setattr__(self, "grid", tuple(clean))
        object.__setattr__(self, "sub", int(self.sub))

    def genome(self) -> dict[str, Any]:
        """Canonical JSON genome ``{"grid": [[...]], "sub": s}``."""
        return {"grid": [list(r) for r in self.grid], "sub": self.sub}

    @classmethod
    def from_json(cls, text: str | dict) -> "Hierarchical":
        """Rebuild from :meth:`to_json` output (or the parsed dict)."""
        data = json.loads(text) if isinstance(text, str) else text
        if not isinstance(data, dict) or "grid" not in data:
            raise ValueError("hierarchical JSON must be an object with a 'grid' key")
        return cls(data["grid"], data.get("sub", 2))

    @property
    def shape(self) -> tuple[int, int]:
        """Coarse ``(rows, columns)``."""
        return len(self.grid), len(self.grid[0])

    def expand(self, palette: tuple[str, ...] = DEFAULT_PALETTE) -> Checkerboard:
        """The fine soft/stiff checkerboard (``palette[0]`` soft, ``palette[1]`` stiff)."""
        s = self.sub
        blocks = [[sub_pattern(v, s) for v in row] for row in self.grid]
        return Checkerboard.from_array(np.block(blocks), tuple(palette))

    def mirrored(self) -> "Hierarchical":
        """Coarse grid mirrored about the crack plane (row order reversed).

        Note: the sub-patterns are not mirrored, so ``expand`` of the result equals the mirror
        of ``expand`` only for even ``sub``-periodic patterns up to a one-cell shift.
        """
        return Hierarchical(self.grid[::-1], self.sub)

    @classmethod
    def random(
        cls, rows: int = 4, columns: int | None = None, sub: int = 2, seed: int | np.random.Generator | None = None
    ) -> "Hierarchical":
        """Uniformly random building blocks on a ``rows×columns`` coarse grid."""
        columns = rows if columns is None else columns
        if int(rows) != rows or int(columns) != columns or rows < 1 or columns < 1:
            raise ValueError(f"coarse grid size must be integers >= 1, got {rows}x{columns}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return cls(tuple(tuple(int(v) for v in r) for r in rng.integers(0, 3, size=(rows, columns))), sub)
