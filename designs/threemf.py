"""3MF export (millimetres) of a multi-material block plate: one file, one named body per material.

3MF is the format multi-material printers and their slicers take: a zip package holding an
XML model whose meshes are *indexed*, so the bodies of :func:`designs.stl.plate_meshes` stay
closed 2-manifolds where blocks of one material touch only at a corner (an STL cannot say so).
The file is written by trimesh (its 3MF writer needs lxml). Each material is an object of type
"model" whose ``name`` (and build item ``partnumber``) is the material's palette name, e.g.
"soft" and "stiff". trimesh 5.2 writes no ``<basematerials>`` or colours, so the names are what
tells the materials apart when the file is reopened; assign a filament per object in the slicer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh

from designs.checkerboard import DEFAULT_PALETTE
from designs.stl import check_plate_blocks, plate_meshes

__all__ = ["plate_3mf"]


def plate_3mf(
    blocks: np.ndarray,
    block_size_mm: float = 5.0,
    thickness_mm: float = 2.0,
    palette: Sequence[str] = DEFAULT_PALETTE,
) -> bytes:
    """One 3MF file holding every material of a block plate as a named, closed body.

    Parameters
    ----------
    blocks : numpy.ndarray
        (n, m) non-negative integer block types (row i along x, column j along y), each an
        index into ``palette``.
    block_size_mm : float
        Edge of a square block in mm.
    thickness_mm : float
        Plate thickness (z) in mm.
    palette : sequence of str
        Unique, non-empty names of the block types (default ``("soft", "stiff")``); the object
        of material ``k`` is named ``palette[k]``.

    Returns
    -------
    bytes
        The 3MF package (unit millimetre); one object per material present in ``blocks``, in
        increasing block type, with the vertices and triangles of :func:`plate_meshes`.

    Raises
    ------
    ValueError
        For a bad grid or size (see :func:`plate_meshes`), a block type without a name in
        ``palette``, or palette names that are empty or repeated.
    """
    names = [palette] if isinstance(palette, str) else list(palette)
    if not names or any(not isinstance(p, str) or not p.strip() for p in names) or len(set(names)) != len(names):
        raise ValueError(f"palette must be unique non-empty names of the block types, got {palette!r}")
    b = check_plate_blocks(blocks)
    if b.max() >= len(names):
        raise ValueError(f"block type {int(b.max())} has no name: the palette {names!r} "
                         f"allows block types 0..{len(names) - 1}")
    scene = trimesh.Scene()
    for value, body in plate_meshes(b, block_size_mm, thickness_mm).items():
        # process=False keeps our vertex indices: merging equal coordinates would re-create
        # the four-face edges at corner contacts
        mesh = trimesh.Trimesh(vertices=body.vertices, faces=body.faces, process=False, validate=False)
        scene.add_geometry(mesh, geom_name=names[value], node_name=names[value])
    return scene.export(file_type="3mf")
