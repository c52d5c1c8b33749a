"""Binary STL export (millimetres) of spinodoids and of two-material plates.

* :func:`spinodoid_mesh` / :func:`spinodoid_stl`: one marching-cubes pass over the (tiled)
  phase field sampled on the grid nodes, padded with void so the surface closes; vertices in
  the padding gap are projected onto the box faces, which caps the outer faces exactly.
  Tiling uses the periodic field itself, so a tiled part has no seams or internal faces.
* :func:`plate_meshes` / :func:`plate_stl`: a 2D grid of block types (e.g. a checkerboard)
  extruded to a chosen thickness, one body per material.

File layout (binary STL): 80-byte header, uint32 triangle count, then per triangle 12
float32 (normal, three vertices) and a uint16 attribute: size = 84 + 50 · triangles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from designs.spinodal import Spinodoid

__all__ = [
    "TriMesh",
    "plate_meshes",
    "plate_stl",
    "spinodoid_mesh",
    "spinodoid_stl",
    "write_binary_stl",
]


@dataclass(frozen=True)
class TriMesh:
    """Triangle mesh in millimetres.

    Attributes
    ----------
    vertices : numpy.ndarray
        (n, 3) float coordinates in mm.
    faces : numpy.ndarray
        (m, 3) int vertex indices, counter-clockwise seen from outside.
    """

    vertices: np.ndarray
    faces: np.ndarray

    @property
    def volume(self) -> float:
        """Enclosed volume in mm³ (divergence theorem; positive for outward normals)."""
        v = self.vertices[self.faces]
        return float(np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() / 6.0)

    def to_stl(self, header: str = "matloop") -> bytes:
        """Binary STL bytes of this mesh (see :func:`write_binary_stl`)."""
        return write_binary_stl(self.vertices, self.faces, header)


def write_binary_stl(vertices: np.ndarray, faces: np.ndarray, header: str = "matloop") -> bytes:
    """Encode a triangle mesh as binary STL.

    Parameters
    ----------
    vertices : numpy.ndarray
        (n, 3) coordinates (mm).
    faces : numpy.ndarray
        (m, 3) vertex indices.
    header : str
        ASCII text for the 80-byte header (must not start with "solid").

    Returns
    -------
    bytes
        84 + 50 · m bytes.
    """
    tri = np.asarray(vertices, dtype=np.float64)[np.asarray(faces)]
    nrm = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    ln = np.linalg.norm(nrm, axis=1, keepdims=True)
    nrm = np.divide(nrm, ln, out=np.zeros_like(nrm), where=ln > 0)
    rec = np.zeros(len(tri), dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]))
    rec["n"] = nrm
    rec["v"] = tri
    head = header.encode("ascii", "replace")[:80]
    if head[:5].lower() == b"solid":
        head = b"matloop " + head
    head = head[:80].ljust(80, b" ")
    return head + np.uint32(len(tri)).tobytes() + rec.tobytes()


def spinodoid_mesh(
    design: Spinodoid, resolution: int = 64, cell_size_mm: float = 10.0, tiles: int = 1
) -> TriMesh:
    """Closed surface of a spinodoid (tiled ``tiles``³ times), in millimetres.

    Parameters
    ----------
    design : Spinodoid
        The design; tiling (``tiles > 1``) needs ``design.periodic``.
    resolution : int
        Samples per cell side (≥ ``design.min_resolution()``).
    cell_size_mm : float
        Edge of one cell in mm (the periodic cell spans ``design.cell_length`` units).
    tiles : int
        Number of cells along each axis, 1..6.

    Returns
    -------
    TriMesh
        Watertight mesh with the outer faces capped.
    """
    from skimage.measure import marching_cubes

    if not isinstance(design, Spinodoid):
        raise ValueError(f"design must be a Spinodoid, got {type(design).__name__}")
    if not (isinstance(cell_size_mm, (int, float)) and math.isfinite(cell_size_mm) and cell_size_mm > 0):
        raise ValueError(f"cell_size_mm must be a positive number of millimetres, got {cell_size_mm!r}")
    if isinstance(tiles, bool) or int(tiles) != tiles or not 1 <= int(tiles) <= 6:
        raise ValueError(f"tiles must be an integer in 1..6, got {tiles!r}")
    tiles = int(tiles)
    if tiles > 1 and not design.periodic:
        raise ValueError("tiling needs a periodic spinodoid (periodic=True); the published variant is not periodic")
    L = design.cell_length
    phi_c = design.field(resolution)          # validates resolution
    level = design.level(phi_c)
    r = int(resolution)
    nodes = np.arange(r * tiles + 1) * (L / r)
    phi = design.field_at(nodes, nodes, nodes)
    # a very low void value puts the cap crossing within ~1e-4 voxel outside the box faces
    pad = np.full(tuple(s + 2 for s in phi.shape), level - 1e4 * (1.0 + np.abs(phi).max()))
    pad[1:-1, 1:-1, 1:-1] = phi
    h = cell_size_mm / r
    verts, faces, _, _ = marching_cubes(pad, level=level, spacing=(h, h, h), allow_degenerate=False)
    verts -= h                                 # padding offset
    # marching_cubes orients faces toward increasing values (into the solid) → flip
    faces = faces[:, ::-1]
    mesh = TriMesh(vertices=verts, faces=faces.astype(np.int64))
    if mesh.volume < 0:
        mesh = TriMesh(vertices=verts, faces=faces[:, ::-1].astype(np.int64))
    return mesh


def spinodoid_stl(
    design: Spinodoid, resolution: int = 64, cell_size_mm: float = 10.0, tiles: int = 1
) -> bytes:
    """Binary STL (mm) of :func:`spinodoid_mesh`."""
    mesh = spinodoid_mesh(design, resolution, cell_size_mm, tiles)
    return mesh.to_stl(f"matloop spinodoid rho={design.rho:.3f} tiles={tiles} mm")


_QUAD = {  # outward faces of a unit cube, as corner offsets (counter-clockwise from outside)
    (-1, 0): [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)],
    (1, 0): [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)],
    (0, -1): [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)],
    (0, 1): [(0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0)],
}


def plate_meshes(
    blocks: np.ndarray, block_size_mm: float = 5.0, thickness_mm: float = 2.0
) -> dict[int, TriMesh]:
    """Extrude a 2D grid of block types into one closed body per material.

    Parameters
    ----------
    blocks : numpy.ndarray
        (n, m) integer block types (row i along x, column j along y); each distinct value is
        one material.
    block_size_mm : float
        Edge of a square block in mm.
    thickness_mm : float
        Plate thickness (z) in mm.

    Returns
    -------
    dict of int to TriMesh
        Material value → body. Only faces between different materials or on the plate edge
        are emitted, so same-material neighbours merge. Blocks of one material that touch only
        at a corner share that vertical edge (fine for slicers, but such a body is not a
        2-manifold there).
    """
    b = np.asarray(blocks)
    if b.ndim != 2 or b.size == 0:
        raise ValueError(f"blocks must be a non-empty 2D array of block types, got shape {b.shape}")
    if not np.issubdtype(b.dtype, np.integer):
        raise ValueError(f"blocks must hold integer block types, got dtype {b.dtype}")
    for name, v in (("block_size_mm", block_size_mm), ("thickness_mm", thickness_mm)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number of millimetres, got {v!r}")
    n, m = b.shape
    out: dict[int, TriMesh] = {}
    for mat in np.unique(b).tolist():
        quads: list[np.ndarray] = []
        mask = b == mat
        ii, jj = np.nonzero(mask)
        base = np.stack([ii, jj, np.zeros_like(ii)], axis=1)
        # bottom (z = 0, normal −z) and top (z = 1, normal +z)
        bot = np.array([(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)])
        top = np.array([(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)])
        quads += [base[:, None, :] + bot[None], base[:, None, :] + top[None]]
        pad = np.pad(mask, 1, constant_values=False)
        for (di, dj), corners in _QUAD.items():
            nb = pad[1 + di: 1 + di + n, 1 + dj: 1 + dj + m]
            si, sj = np.nonzero(mask & ~nb)
            sb = np.stack([si, sj, np.zeros_like(si)], axis=1)
            quads.append(sb[:, None, :] + np.array(corners)[None])
        q = np.concatenate(quads).reshape(-1, 3)
        uniq, inv = np.unique(q, axis=0, return_inverse=True)
        inv = inv.reshape(-1, 4)
        faces = np.concatenate([inv[:, [0, 1, 2]], inv[:, [0, 2, 3]]])
        verts = uniq.astype(float) * np.array([block_size_mm, block_size_mm, thickness_mm])
        out[int(mat)] = TriMesh(vertices=verts, faces=faces)
    return out


def plate_stl(
    blocks: np.ndarray, block_size_mm: float = 5.0, thickness_mm: float = 2.0
) -> dict[int, bytes]:
    """Binary STL (mm) per material of :func:`plate_meshes`."""
    return {k: v.to_stl(f"matloop plate material {k} mm")
            for k, v in plate_meshes(blocks, block_size_mm, thickness_mm).items()}
