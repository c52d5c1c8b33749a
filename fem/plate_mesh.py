"""How a plate design is meshed for :mod:`fem.fracture`: mesh lines, checks, element materials.

The unit plate's Q1 mesh has elements of at most ``element_size`` (or ``block side /
elements_per_block``) with the interfaces (the block edges where the phase changes,
:func:`interfaces`), the crack plane and the crack tip on mesh lines
(:func:`fem.mesh_quad.interface_axis`), so one plate gets the same mesh, and the same label, on
any grid it is drawn on (solver version 10; up to version 9 every block edge was a mesh line, and
a plate drawn on a finer grid got other elements: 6 random 4×4 plates drawn as 12×12 moved by up to
1.3 % in strength and 4.1 % in toughness in mode I, 3.9 % and 8.1 % in mode II); a
mesh with an element longer than ``ell / 2`` in either direction, or too large, is refused (see
"Length scale and mesh" in :mod:`fem.fracture`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from designs.checkerboard import Checkerboard
from fem.cost import plate_cost
from fem.materials import Material, default_palette
from fem.mesh_quad import QuadGrid, interface_axis
from fem.plate_setup import DEFAULT_ELL, MAX_ELEMENTS_PER_SIDE, PlateSetup

__all__ = ["as_checkerboard", "block_types", "check_design", "element_materials", "interfaces", "mesh_elements",
           "plate_mesh"]


def as_checkerboard(design: Any) -> Checkerboard:
    """The plate a design is meshed as (a hierarchical design: its expanded checkerboard); ``ValueError``
    for any other design."""
    if isinstance(design, Checkerboard):
        return design
    if hasattr(design, "expand"):
        return design.expand()
    raise ValueError(f"design must be a Checkerboard or Hierarchical, got {type(design).__name__}")


def interfaces(cb: Checkerboard) -> tuple[np.ndarray, np.ndarray]:
    """Where the phase changes in a plate: the interior block edges that separate two phases.

    Parameters
    ----------
    cb : Checkerboard
        The plate (unit square, row 0 at the bottom).

    Returns
    -------
    x, y : numpy.ndarray
        Coordinates (mm) of the vertical interfaces (a column edge with different phases on its
        two sides in some row) and of the horizontal ones; each increasing, possibly empty. They
        are the same for a plate drawn on any grid (each block split into equal sub-blocks).
    """
    a = cb.as_array()
    rows, cols = a.shape
    x = np.array([j / cols for j in range(1, cols) if np.any(a[:, j - 1] != a[:, j])])
    y = np.array([i / rows for i in range(1, rows) if np.any(a[i - 1] != a[i])])
    return x, y


@dataclass(frozen=True)
class _Axes:
    """Node coordinates of a plate mesh (mm), the crack row and tip column, the element size."""

    xs: np.ndarray
    ys: np.ndarray
    crack_row: int
    crack_tip: int


def _axes(cb: Checkerboard, setup: PlateSetup) -> _Axes:
    """Mesh lines of a design under ``setup``; ``ValueError`` if the mesh cannot be used."""
    rows, cols = cb.shape
    if setup.elements_per_block is None:
        hx = hy = float(setup.element_size)
    else:
        epb = setup.elements_per_block
        hx, hy = 1.0 / (cols * epb), 1.0 / (rows * epb)
        if max(hx, hy) > 0.5 * setup.ell * (1 + 1e-12):
            need = math.ceil(2.0 / (min(rows, cols) * setup.ell) - 1e-9)
            raise ValueError(
                f"the mesh does not resolve the phase-field length ell = {setup.ell:g} mm: elements_per_block = {epb} "
                f"on a {rows}×{cols} grid gives elements of {hx:g} × {hy:g} mm, and at most ell/2 = "
                f"{0.5 * setup.ell:g} mm is allowed in each direction (use elements_per_block >= {need}, or "
                f"element_size <= {0.5 * setup.ell:g} mm)")
        if max(rows, cols) * epb > MAX_ELEMENTS_PER_SIDE:
            raise ValueError(f"elements_per_block = {epb} on a {rows}×{cols} grid gives {max(rows, cols) * epb} "
                             f"elements per side ({plate_cost(cols * epb, rows * epb).describe()}); at most "
                             f"{MAX_ELEMENTS_PER_SIDE} are allowed")
    if not 0.5 * hx <= setup.crack_length <= 1.0 - 0.5 * hx:
        raise ValueError(f"crack_length {setup.crack_length:g} mm leaves less than half an element ({0.5 * hx:g} mm) "
                         f"to a plate edge; allowed {0.5 * hx:g} to {1.0 - 0.5 * hx:g} mm on this mesh, whose elements "
                         f"are {hx:g} mm wide (ell = {setup.ell:g} mm allows up to ell/2): a smaller ell or element "
                         "size makes room for the crack")
    edges_x, edges_y = interfaces(cb)
    xs, ys = interface_axis(edges_x, hx, setup.crack_length), interface_axis(edges_y, hy, 0.5)
    known = sorted(default_palette(DEFAULT_ELL) if setup.materials is None else setup.materials)
    missing = sorted(set(cb.palette) - set(known))
    if missing:
        raise ValueError(f"unknown block type(s) {missing}; materials are defined for {known}")
    return _Axes(xs, ys, int(np.argmin(np.abs(ys - 0.5))), int(np.argmin(np.abs(xs - setup.crack_length))))


def block_types(design: Any) -> tuple[str, ...]:
    """The block type names of a plate design: its palette (a hierarchical design: its expanded plate's).

    Raises
    ------
    ValueError
        The design is not a plate.
    """
    return as_checkerboard(design).palette


def check_design(design: Any, setup: PlateSetup | None = None) -> None:
    """Check, without solving, that ``design`` can be meshed and labelled under ``setup``.

    Raises
    ------
    ValueError
        The design is not a plate, its mesh does not resolve ``ell`` or is too large, or a block
        type has no material.
    """
    _axes(as_checkerboard(design), PlateSetup() if setup is None else setup)


def mesh_elements(rows: int, columns: int, setup: PlateSetup | None = None) -> tuple[int, int]:
    """Elements ``(nx, ny)`` of the mesh of a plate of ``rows × columns`` blocks, without meshing it.

    The count with every block edge an interface (:func:`interfaces`), which a design with fewer
    interfaces can only lower (by at most one element per edge that is not one), for grids of at
    most :data:`MAX_ELEMENTS_PER_SIDE` blocks a side; beyond, a lower bound (one element per block
    at least, and at least ``1 / element_size`` per side), which is enough to refuse the plate.
    Whether the mesh resolves ``ell`` is not checked here.

    Raises
    ------
    ValueError
        ``rows`` or ``columns`` below 1.
    """
    setup = PlateSetup() if setup is None else setup
    if min(rows, columns) < 1:
        raise ValueError(f"a plate needs at least one block a side, got {rows}×{columns}")
    epb = setup.elements_per_block

    def count(blocks: int, cut: float) -> int:
        h = 1.0 / (blocks * epb) if epb is not None else float(setup.element_size)
        least = max(int(blocks), math.ceil(1.0 / h - 1e-9))
        if least > MAX_ELEMENTS_PER_SIDE:
            return least
        return len(interface_axis(np.arange(1, blocks) / blocks, h, cut)) - 1

    return count(int(columns), setup.crack_length), count(int(rows), 0.5)


def plate_mesh(cb: Checkerboard, setup: PlateSetup) -> tuple[QuadGrid, np.ndarray]:
    """The plate mesh and the block (palette index) of each element."""
    axes = _axes(cb, setup)
    grid = QuadGrid(axes.xs, axes.ys, axes.crack_row, axes.crack_tip)
    rows, cols = cb.shape
    centres = grid.centres()
    iy = np.minimum((centres[:, 1] * rows).astype(int), rows - 1)
    ix = np.minimum((centres[:, 0] * cols).astype(int), cols - 1)
    return grid, cb.as_array()[iy, ix]


def element_materials(cb: Checkerboard, block: np.ndarray, setup: PlateSetup
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[Material]]:
    """Per element: 2D Lamé parameters λ and μ (MPa), toughness G_c (N/mm) and crushing strength (MPa, inf
    for none), from the phase of its block (``block``: palette indices, :func:`plate_mesh`); and the
    phases in palette order."""
    mats = dict(default_palette(setup.ell)) if setup.materials is None else dict(setup.materials)
    table = [mats[p] for p in cb.palette]
    lm = np.array([m.lame(setup.plane) for m in table])
    gc = np.array([m.Gc for m in table])
    crush = np.array([np.inf if m.compressive_strength is None else m.compressive_strength for m in table])
    return lm[block, 0], lm[block, 1], gc[block], crush[block], table
