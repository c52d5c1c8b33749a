"""Checkerboard composites: an n×m grid of block types from a palette.

Convention: ``grid[i][j]`` is the block in row ``i`` counted from the **bottom** of the plate
(y) and column ``j`` counted from the **left** (x, the side of the edge crack). Entries are
indices into ``palette`` (default ``("soft", "stiff")``: 0 = soft, 1 = stiff). The crack plane
is the horizontal mid-line, so the mirror image about it reverses the row order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from designs.base import GenomeIdentity

__all__ = ["Checkerboard", "DEFAULT_PALETTE"]

DEFAULT_PALETTE: tuple[str, ...] = ("soft", "stiff")


def _as_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@dataclass(frozen=True)
class Checkerboard(GenomeIdentity):
    """An n×m block composite.

    Parameters
    ----------
    grid : tuple of tuple of int
        Block type indices, rows from the bottom; at least 2×2, rectangular.
    palette : tuple of str
        Names of the block types (unique, non-empty), e.g. ``("soft", "stiff")``.
    """

    space: ClassVar[str] = "checkerboard"
    grid: tuple[tuple[int, ...], ...]
    palette: tuple[str, ...] = DEFAULT_PALETTE

    def __post_init__(self) -> None:
        pal = self.palette
        if isinstance(pal, str) or not isinstance(pal, (tuple, list)) or len(pal) < 1:
            raise ValueError("palette must be a non-empty sequence of block type names")
        if any(not isinstance(p, str) or not p for p in pal) or len(set(pal)) != len(pal):
            raise ValueError(f"palette names must be unique non-empty strings, got {list(pal)!r}")
        rows = self.grid
        if isinstance(rows, np.ndarray):
            rows = rows.tolist()
        if not isinstance(rows, (tuple, list)) or len(rows) == 0:
            raise ValueError("grid must be a non-empty list of rows")
        out = []
        for r in rows:
            if isinstance(r, np.ndarray):
                r = r.tolist()
            if not isinstance(r, (tuple, list)) or len(r) == 0:
                raise ValueError("grid rows must be non-empty lists of block indices")
            out.append(r)
        widths = {len(r) for r in out}
        if len(widths) != 1:
            raise ValueError(f"grid is ragged: row lengths {sorted(widths)}; all rows need the same length")
        if len(out) < 2 or len(out[0]) < 2:
            raise ValueError(f"grid must be at least 2x2, got {len(out)}x{len(out[0])}")
        clean = []
        for r in out:
            row = []
            for v in r:
                if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                    raise ValueError(f"block entries must be integer indices into the palette, got {v!r}")
                if not 0 <= int(v) < len(pal):
                    raise ValueError(f"unknown block type {int(v)}; allowed indices 0..{len(pal) - 1} for palette {list(pal)}")
                row.append(int(v))
            clean.append(tuple(row))
        object.__setattr__(self, "grid", tuple(clean))
        object.__setattr__(self, "palette", tuple(pal))

    # -- identity -------------------------------------------------------------------------
    def genome(self) -> dict[str, Any]:
        """Canonical JSON genome ``{"grid": [[...]], "palette": [...]}``."""
        return {"grid": [list(r) for r in self.grid], "palette": list(self.palette)}

    @classmethod
    def from_json(cls, text: str | dict) -> "Checkerboard":
        """Rebuild from :meth:`to_json` output (or the parsed dict); validates it."""
        data = json.loads(text) if isinstance(text, str) else text
        if not isinstance(data, dict) or "grid" not in data:
            raise ValueError("checkerboard JSON must be an object with a 'grid' key")
        return cls(data["grid"], data.get("palette", DEFAULT_PALETTE))  # checked as given: "soft" is no palette

    # -- views ----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return len(self.grid), len(self.grid[0])

    def as_array(self) -> np.ndarray:
        """Grid as an int array of shape (rows, columns), row 0 at the bottom."""
        return np.array(self.grid, dtype=int)

    @classmethod
    def from_array(cls, array: Any, palette: tuple[str, ...] = DEFAULT_PALETTE) -> "Checkerboard":
        """Build from a 2D integer array (row 0 at the bottom)."""
        a = np.asarray(array)
        if a.ndim != 2:
            raise ValueError(f"grid array must be 2D, got shape {a.shape}")
        if a.size and not np.issubdtype(a.dtype, np.integer):
            if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
                raise ValueError("grid array must hold integer block indices")
            a = a.astype(int)
        return cls(tuple(tuple(int(v) for v in r) for r in a), tuple(palette))

    def fraction(self, block: str = "soft") -> float:
        """Area fraction of block type ``block`` (dimensionless)."""
        if block not in self.palette:
            raise ValueError(f"unknown block type {block!r}; palette is {list(self.palette)}")
        return float(np.mean(self.as_array() == self.palette.index(block)))

    # -- symmetry -------------------------------------------------------------------------
    def mirrored(self) -> "Checkerboard":
        """Mirror image about the crack plane (horizontal mid-line)."""
        return Checkerboard(self.grid[::-1], self.palette)

    def is_mirror_symmetric(self) -> bool:
        """True if the design equals its mirror image about the crack plane."""
        return self.grid == self.grid[::-1]

    def symmetrized(self) -> "Checkerboard":
        """Copy of the bottom half mirrored onto the top half."""
        n = len(self.grid)
        bottom = self.grid[: (n + 1) // 2]
        return Checkerboard(bottom + self.grid[: n // 2][::-1], self.palette)

    # -- sampling -------------------------------------------------------------------------
    @classmethod
    def random(
        cls,
        rows: int = 8,
        columns: int | None = None,
        soft_fraction: float = 0.5,
        seed: int | np.random.Generator | None = None,
        palette: tuple[str, ...] = DEFAULT_PALETTE,
        symmetric: bool = False,
    ) -> "Checkerboard":
        """Random two-phase design with an exact share of palette[0] ("soft") blocks.

        Parameters
        ----------
        rows, columns : int
            Grid size (>= 2); ``columns`` defaults to ``rows``.
        soft_fraction : float
            Target fraction of ``palette[0]`` blocks in [0, 1]; the count is rounded.
        seed : int or numpy.random.Generator or None
            Randomness source.
        palette : tuple of str
            Two or more block names; the non-soft cells get ``palette[1]``.
        symmetric : bool
            Mirror-symmetric about the crack plane (sampled on the bottom half).
        """
        columns = rows if columns is None else columns
        if int(rows) != rows or int(columns) != columns or rows < 2 or columns < 2:
            raise ValueError(f"grid size must be integers >= 2, got {rows}x{columns}")
        if not np.isfinite(soft_fraction) or not 0.0 <= soft_fraction <= 1.0:
            raise ValueError(f"soft_fraction must lie in [0, 1], got {soft_fraction!r}")
        if len(palette) < 2:
            raise ValueError("random sampling needs a palette of at least two block types")
        rng = _as_rng(seed)
        nr = (rows + 1) // 2 if symmetric else rows
        cells = nr * columns
        flat = np.ones(cells, dtype=int)
        if symmetric and rows % 2:
            # middle-row cells count once, others twice: greedy fill in random order
            n_soft = int(round(soft_fraction * rows * columns))
            order = rng.permutation(cells)
            count = 0.0
            for c in order:
                w = 1 if c >= (nr - 1) * columns else 2
                if count + w <= n_soft:
                    flat[c] = 0
                    count += w
        else:
            per = 2 if symmetric else 1
            n_soft = int(round(soft_fraction * rows * columns / per))
            flat[rng.permutation(cells)[:n_soft]] = 0
        half = flat.reshape(nr, columns)
        if symmetric:
            full = np.vstack([half, half[: rows // 2][::-1]])
        else:
            full = half
        return cls.from_array(full, tuple(palette))
