"""Binary STL export (millimetres) of spinodoids and of two-material plates.

* :func:`spinodoid_mesh` / :func:`spinodoid_stl`: marching cubes over the (tiled) phase field
  sampled at the voxel centres the mechanics labels, carried half a voxel on to the cell faces, at
  the level where the part encloses the solid fraction the kept voxels hold, padded with void so the
  surface closes; vertices in
  the padding gap are put on the box faces and those that then coincide merged, which caps the
  outer faces exactly, and node values at the level are first moved off it, so that no two
  vertices come closer than :data:`VERTEX_CLEARANCE` samples: the STL file (float32) holds a
  closed surface for every cell edge of :data:`CELL_MM_RANGE` (:func:`checked_stl` reads it back).
  Tiling uses the periodic field itself, so a tiled part has no seams or internal faces.
  Floating islands are left out, as the mechanics leaves them out
  (:func:`designs.spinodal.connectivity` of the voxels, as :func:`fem.homogenize.homogenize` takes
  it): at the resolution of its label, the part is the structure labelled. What remains may still be
  several separate bodies (a stack of plates): :func:`body_volumes` lists them; a dense part may
  hold sealed cavities (:func:`shell_volumes`); :func:`part_warnings` says both.
* :func:`plate_meshes` / :func:`plate_stl`: a 2D grid of block types (e.g. a checkerboard)
  extruded to a chosen thickness, one closed body per material (vertices duplicated where
  blocks of one material touch only at a corner; see :func:`plate_meshes`). The two-material
  3MF file is written by :mod:`designs.threemf`.

File layout (binary STL): 80-byte header, uint32 triangle count, then per triangle 12
float32 (normal, three vertices) and a uint16 attribute: size = 84 + 50 · triangles.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from designs.spinodal import Connectivity, Spinodoid, connectivity

__all__ = [
    "CELL_MM_RANGE",
    "MAX_TILES",
    "STL_PINCH_MM",
    "TriMesh",
    "body_volumes",
    "check_plate_blocks",
    "part_warnings",
    "plate_meshes",
    "plate_stl",
    "shell_volumes",
    "spinodoid_mesh",
    "spinodoid_header",
    "spinodoid_part",
    "spinodoid_stl",
    "checked_stl",
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


#: Edges of a printed spinodoid cell that :func:`spinodoid_mesh` takes (mm): from two-photon lithography
#: (tens of micrometres) to large-format printers (a metre). Outside them the float32 coordinates of an STL
#: file cannot hold the surface (vertices merge, or overflow).
CELL_MM_RANGE = (0.01, 1000.0)
#: Most cells along each axis of a tiled spinodoid part.
MAX_TILES = 6


def spinodoid_mesh(
    design: Spinodoid, resolution: int = 64, cell_size_mm: float = 10.0, tiles: int = 1
) -> TriMesh:
    """Closed surface of a spinodoid (tiled ``tiles``³ times), in millimetres (:func:`spinodoid_part`)."""
    return spinodoid_part(design, resolution, cell_size_mm, tiles)[0]


def spinodoid_part(
    design: Spinodoid, resolution: int = 64, cell_size_mm: float = 10.0, tiles: int = 1
) -> tuple[TriMesh, Connectivity]:
    """Closed surface of a spinodoid (tiled ``tiles``³ times), in millimetres, and the connectivity of what
    it keeps.

    Parameters
    ----------
    design : Spinodoid
        The design; tiling (``tiles > 1``) needs ``design.periodic``.
    resolution : int
        Samples per cell side (≥ ``design.min_resolution()``).
    cell_size_mm : float
        Edge of one cell in mm (the periodic cell spans ``design.cell_length`` units), within
        :data:`CELL_MM_RANGE`.
    tiles : int
        Number of cells along each axis, 1..6.

    Returns
    -------
    mesh : TriMesh
        Watertight mesh with the outer faces capped, of the load-bearing solid only: the voxel
        clusters the mechanics keeps at this resolution (:meth:`Spinodoid.structure`), touching a face
        of the cell (published variant) or percolating (periodic variant, clustered on one period and
        tiled); floating islands are dropped. The field is sampled at the voxel centres and carried
        unchanged over the outer half voxel to the cell faces. Pieces that
        the cell faces cut off the rest remain and are separate bodies of the printed part:
        :func:`body_volumes` lists them. Bodies smaller than one sample voxel are dropped too, and
        cavities smaller than one are filled. The surface is drawn at the level, next to the design's,
        where it encloses the share of the box that the kept voxels hold (to :data:`VOLUME_RTOL`):
        marching cubes at the design's level encloses less
        than the voxels where the solid is the minority (0.274 of the box for ρ = 0.3 at 24 samples a
        side, 0.296 at 64) and more where it is the majority (0.805 for ρ = 0.8 at 64). Sampled on the
        grid nodes instead (before), a marginal cell could keep no cluster where its voxels keep one
        (ρ = 0.2, θ = (30°, 0, 45°), periodic, seed 7, 20 samples: 0.132 of the cell, joined along z).
    connectivity : Connectivity
        :func:`designs.spinodal.connectivity` of the voxels (periodic: of one period), equal to the
        label's at this resolution: whether it joins opposite faces along x, y, z, and the share of the solid it keeps
        (:func:`part_warnings`).

    Raises
    ------
    ValueError
        A design that is not a spinodoid, a cell edge outside :data:`CELL_MM_RANGE`, a tile count outside
        1..6, tiling of a non-periodic design, a resolution the design does not take, or a design of which
        nothing carries load at this resolution (only floating islands).
    """

    if not isinstance(design, Spinodoid):
        raise ValueError(f"design must be a Spinodoid, got {type(design).__name__}")
    low, high = CELL_MM_RANGE
    if isinstance(cell_size_mm, bool) or not isinstance(cell_size_mm, numbers.Real) or not (
            low <= cell_size_mm <= high):
        raise ValueError(f"the cell edge must be a number of millimetres from {low:g} to {high:g}, got {cell_size_mm!r}")
    if isinstance(tiles, bool) or int(tiles) != tiles or not 1 <= int(tiles) <= MAX_TILES:
        raise ValueError(f"tiles must be an integer in 1..{MAX_TILES}, got {tiles!r}")
    tiles = int(tiles)
    if tiles > 1 and not design.periodic:
        raise ValueError("tiling needs a periodic spinodoid (periodic=True); the published variant is not periodic")
    phi = design.field(resolution)  # at the voxel centres the mechanics labels; validates resolution
    r = int(resolution)
    level = design.level(phi)
    solid, report = connectivity(phi > level, periodic=design.periodic)  # what fem.homogenize keeps
    if not solid.any():
        raise ValueError(f"nothing of this spinodoid carries load at {r} samples a side (ρ = {design.rho:g}): "
                         + ("no solid cluster percolates through the periodic cell" if design.periodic else
                            "no solid cluster touches a face of the cell") + "; raise ρ, widen the cones or raise "
                         "the resolution")
    # the level is found on one cell (one period), so that every tile of a tiled part is drawn at it
    level, verts, faces = _enclosing_surface(phi, solid, level, report.connected_fraction, r)
    if tiles > 1:
        verts, faces = _marching_cubes_closed(np.tile(phi, (tiles,) * 3), np.tile(solid, (tiles,) * 3), level,
                                              r * tiles)
    mesh = TriMesh(vertices=verts * (cell_size_mm / r), faces=faces)
    return mesh, report


#: Relative tolerance of the volume the surface of a spinodoid part encloses (:func:`_enclosing_surface`).
VOLUME_RTOL = 1e-3


def _enclosing_surface(phi: np.ndarray, solid: np.ndarray, level: float, fraction: float,
                       n: int) -> tuple[float, np.ndarray, np.ndarray]:
    """The level near ``level`` at which the closed surface of the voxel-centre field ``phi`` (``n`` a side)
    round the ``solid`` voxels encloses ``fraction`` of the box, to :data:`VOLUME_RTOL`, and that surface
    (vertices in voxels, outward faces). Every level keeps the samples on their side
    (:func:`_marching_cubes_closed`): the surface moves between them, no new body or hole appears.

    The sampled solid fraction at ``level`` is the design's; marching cubes interpolates linearly
    between samples and so cuts the curved field's peaks short where the solid is the minority phase:
    at ``level`` it enclosed 0.274 of the box for ρ = 0.3 at 24 samples a side, 0.286 at 32, 0.296 at
    64 (0.500 for ρ = 0.5; 0.805 for ρ = 0.8 at 64, where the void's peaks are cut short). The level
    is moved (a Newton step whose slope is the share of samples in a band round the level, then secant
    steps) until the surface encloses what the samples hold.
    """
    def surface(t: float) -> tuple[np.ndarray, np.ndarray, float]:
        verts, faces = _marching_cubes_closed(phi, solid, t, n)
        return verts, faces, TriMesh(verts, faces).volume / n**3

    verts, faces, got = surface(level)
    if fraction <= 0.0 or abs(got - fraction) <= VOLUME_RTOL * fraction:
        return level, verts, faces
    band = 0.05 * float(np.std(phi))
    slope = -max(float(np.mean(np.abs(phi - level) < band)), 1.0 / phi.size) / (2.0 * band)  # d(fraction)/d(level)
    best, t0, v0 = (abs(got - fraction), level, verts, faces), level, got
    t1 = level + (fraction - got) / slope
    for _ in range(8):
        verts, faces, v1 = surface(t1)
        if abs(v1 - fraction) < best[0]:
            best = (abs(v1 - fraction), t1, verts, faces)
        if best[0] <= VOLUME_RTOL * fraction or v1 == v0:
            break
        t0, v0, t1 = t1, v1, t1 + (fraction - v1) * (t1 - t0) / (v1 - v0)
    return best[1:]


def _marching_cubes_closed(phi: np.ndarray, solid: np.ndarray, level: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed surface of the voxel-centre field ``phi`` (``n`` voxels a side) at ``level`` round the ``solid``
    voxels (:func:`_off_the_level`), capped on the box faces: vertices in voxels (the box is ``[0, n]³``, voxel
    centres at half-integers), faces counter-clockwise seen from outside.

    The field is carried unchanged from the outer voxel centres to the box faces (half a voxel), so the part's
    faces show the outer voxels and its topology is that of the voxels."""
    from skimage.measure import marching_cubes

    phi = _off_the_level(np.pad(phi, 1, mode="edge"), np.pad(solid, 1, mode="edge"), level)
    # a very low void value puts the cap crossing within ~1e-6 sample of the box faces, where _weld puts it
    pad = np.full(tuple(s + 2 for s in phi.shape), level - 1e6 * (1.0 + np.abs(phi).max()))
    pad[1:-1, 1:-1, 1:-1] = phi
    verts, faces, _, _ = marching_cubes(pad, level=level, allow_degenerate=False)
    verts, faces = _weld(verts.astype(np.float64) - 1.0, faces, n + 1)
    # padded node k is the voxel centre k - 1/2 (k = 1..n) and nodes 0 and n + 1 the box faces; no vertex lies
    # between a face and its outer centres, where the field does not change across the face
    verts = (verts - 0.5).clip(0.0, n)
    # marching_cubes orients faces toward increasing values (into the solid) → flip
    faces = faces[:, ::-1].astype(np.int64)
    if TriMesh(verts, faces).volume < 0:
        faces = faces[:, ::-1]
    # bodies and cavities smaller than one voxel are artefacts of the sampling (a corner of the
    # field just above the level where a face cuts it), not features a printer could make; leaving a
    # cavity's wall out fills it
    shell, volume = _shells(TriMesh(verts, faces))
    speck = np.abs(volume) < 1.0
    return verts, faces[~speck[shell]] if speck.any() else faces


#: Least distance of a surface vertex from a sample node, in samples (:func:`_off_the_level`): far above the
#: float32 resolution of an STL file's coordinates (6e-8 of the part) and trimesh's vertex merging
#: (1e-8 mm) for every cell edge of :data:`CELL_MM_RANGE` and resolution up to 256.
VERTEX_CLEARANCE = 1e-3


def _off_the_level(phi: np.ndarray, solid: np.ndarray, level: float) -> np.ndarray:
    """The node field with the ``solid`` nodes above ``level`` and the others below it, values near it moved away.

    At the design's level only values near it move; at a level beside it, nodes on the wrong side are put
    just across it, so the surface keeps the topology of the samples (the structure the mechanics labels).

    Marching cubes puts a vertex on each edge that crosses the level at ``t = (level - a) / (b - a)``;
    a node value ``a`` within ``VERTEX_CLEARANCE · |b - a|`` of the level puts it that close to the
    node, where the vertices of the node's other edges are too, and writing the coordinates as float32
    (STL) or merging near vertices (slicers, trimesh) then joins them into a non-manifold surface (cells
    of 1 mm and less). Moving every value to at least ``VERTEX_CLEARANCE`` times the largest jump between
    neighbouring nodes from the level keeps each vertex that far (in samples) from its nodes; it moves
    the surface by at most that much.
    """
    jump = max(float(np.abs(np.diff(phi, axis=a)).max(initial=0.0)) for a in range(phi.ndim))
    gap = VERTEX_CLEARANCE * jump
    out = phi.copy()
    out[solid] = np.maximum(phi[solid], level + gap)
    out[~solid] = np.minimum(phi[~solid], level - gap)
    return out


def _weld(verts: np.ndarray, faces: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Marching-cubes vertices (in samples) with the caps put on the box faces and the vertices that
    then coincide merged.

    The padding puts each cap vertex within 1e-6 sample outside the box beside its node, and the
    float32 arithmetic of marching cubes puts each vertex up to ~1e-5 sample off its edge; coordinates
    within 1e-4 of a node plane are put on it and the rest clipped into ``[0, n]``. Where two caps meet
    at a box edge, the two cap vertices of a node become one and the sliver triangles between the caps
    vanish (dropped), which leaves a closed 2-manifold with the caps flat on the faces. Surface vertices
    off the nodes keep their distance (``VERTEX_CLEARANCE`` > 1e-4).
    """
    nearest = np.rint(verts)
    snapped = np.where(np.abs(verts - nearest) < 1e-4, nearest, verts).clip(0.0, n)
    unique, index = np.unique(snapped, axis=0, return_inverse=True)
    faces = index.reshape(-1)[faces]
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])
    used, faces = np.unique(faces[keep], return_inverse=True)
    return unique[used], faces.reshape(-1, 3)


def part_warnings(mesh: TriMesh, report: Connectivity, volumes: np.ndarray | None = None) -> list[str]:
    """What makes a spinodoid part (:func:`spinodoid_part`) unfit to print or to test, as sentences.

    A part that joins no pair of opposite faces along an axis has no load path along it (zero
    stiffness, as :func:`fem.homogenize.label` reports it); a part of several bodies falls apart
    when printed; a sealed cavity traps resin or powder. An empty list: none of these. ``volumes``:
    :func:`shell_volumes` of ``mesh``, where the caller has them.
    """
    warnings = []
    missing = [axis for axis, joined in zip("xyz", report.percolates) if not joined]
    if len(missing) == 3:
        warnings.append("the part joins no pair of opposite faces: it carries no load along x, y or z")
    elif missing:
        warnings.append(f"the part joins opposite faces only along {', '.join(a for a in 'xyz' if a not in missing)}: "
                        f"it has no stiffness along {' and '.join(missing)}")
    volumes = shell_volumes(mesh) if volumes is None else volumes
    bodies, cavities = volumes[volumes > 0], volumes[volumes < 0]
    if len(bodies) > 1:
        rest = 100.0 * (1.0 - bodies.max() / bodies.sum())
        share = (f"the largest holds {100.0 - rest:.1f} % of the volume" if rest >= 0.05 else
                 f"the other{'s hold' if len(bodies) > 2 else ' holds'} only {rest:.2g} % of the volume")
        warnings.append(f"the part falls apart into {len(bodies)} separate bodies ({share}), its floating islands "
                        "already left out: it will not print as one piece")
    if warnings:
        warnings[-1] += " (raise ρ or widen the cones)"
    if len(cavities):
        warnings.append(f"the part holds {len(cavities)} sealed cavit{'y' if len(cavities) == 1 else 'ies'} "
                        f"({-cavities.sum():.3g} mm³ in all) that no opening joins to the outside: a resin or powder "
                        "printer traps material in them (a lower ρ opens them)")
    return warnings


def body_volumes(mesh: TriMesh) -> np.ndarray:
    """Volume of each separate body of a closed mesh, largest first (mm³ for our meshes).

    A shell is a group of triangles joined through shared edges — what
    ``trimesh.Trimesh.split(only_watertight=False)`` returns — and its volume follows from the
    divergence theorem (:func:`shell_volumes`). Shells of positive volume are bodies; a shell of
    negative volume is the wall of a sealed cavity inside a body and is not counted. A part with
    more than one body falls apart when printed.
    """
    volume = shell_volumes(mesh)
    return np.sort(volume[volume > 0])[::-1]


def shell_volumes(mesh: TriMesh) -> np.ndarray:
    """Signed volume of each shell of a closed, outward-oriented mesh (mm³ for our meshes), in no
    particular order: positive for a body, negative for the wall of a sealed cavity inside one (void
    that no opening joins to the outside, where a printer traps resin or powder)."""
    return _shells(mesh)[1]


def _shells(mesh: TriMesh) -> tuple[np.ndarray, np.ndarray]:
    """Shell index of each triangle and the signed volume of each shell (divergence theorem)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    f = np.asarray(mesh.faces)
    if len(f) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    _, edge_id = np.unique(edges, axis=0, return_inverse=True)
    tri = np.tile(np.arange(len(f)), 3)
    # triangle × edge incidence; triangles sharing an edge are connected
    inc = coo_matrix((np.ones(len(tri)), (tri, edge_id.ravel())), shape=(len(f), int(edge_id.max()) + 1)).tocsr()
    n, shell = connected_components(inc @ inc.T, directed=False)
    v = np.asarray(mesh.vertices, dtype=np.float64)[f]
    signed = np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])) / 6.0
    return shell, np.bincount(shell, weights=signed, minlength=n)


def checked_stl(mesh: TriMesh, header: str = "matloop") -> bytes:
    """Binary STL of a part, read back as a slicer reads it (float32 coordinates, near vertices merged by
    trimesh) and refused unless that is a closed surface.

    Raises
    ------
    ValueError
        The mesh is empty, or its STL is not closed (every edge of exactly two triangles).
    """
    import io

    import trimesh

    if not len(mesh.faces):
        raise ValueError("the surface is empty (no solid in the box); nothing written")
    data = mesh.to_stl(header)
    if not trimesh.load(io.BytesIO(data), file_type="stl").is_watertight:
        raise ValueError("the surface written as STL (float32 coordinates, as a slicer reads them) is not closed; "
                         "nothing written")
    return data


def spinodoid_stl(
    design: Spinodoid, resolution: int = 64, cell_size_mm: float = 10.0, tiles: int = 1
) -> bytes:
    """Binary STL (mm) of :func:`spinodoid_mesh`, checked closed (:func:`checked_stl`)."""
    return checked_stl(spinodoid_mesh(design, resolution, cell_size_mm, tiles), spinodoid_header(design, tiles))


def spinodoid_header(design: Spinodoid, tiles: int = 1) -> str:
    """The STL header of a spinodoid part: its ρ, tiling and unit."""
    return f"matloop spinodoid rho={design.rho:.3f} tiles={tiles} mm"


_QUAD = {  # outward faces of a unit cube, as corner offsets (counter-clockwise from outside)
    (-1, 0): [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)],
    (1, 0): [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)],
    (0, -1): [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)],
    (0, 1): [(0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0)],
}
_BOTTOM = [(0, 0, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)]   # z = 0, normal −z
_TOP = [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]      # z = 1, normal +z


def _positive_mm(name: str, value: object) -> float:
    """``value`` as a float number of millimetres; ValueError unless finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number of millimetres, got {value!r}")
    return float(value)


def check_plate_blocks(blocks: object) -> np.ndarray:
    """Validate a grid of block types and return it as an integer array.

    Parameters
    ----------
    blocks : array_like
        (n, m) block types: non-negative integers (indices into a palette such as
        ``("soft", "stiff")``), n, m ≥ 1.

    Returns
    -------
    numpy.ndarray
        (n, m) int64 copy.

    Raises
    ------
    ValueError
        If the grid is not 2D, is empty, holds non-integers (floats, NaN, booleans) or
        negative values.
    """
    b = np.asarray(blocks)
    if b.ndim != 2 or b.size == 0:
        raise ValueError(f"blocks must be a non-empty 2D array of block types, got shape {b.shape}")
    if not np.issubdtype(b.dtype, np.integer):
        raise ValueError(f"blocks must hold integer block types (0, 1, ...), got dtype {b.dtype}")
    if b.min() < 0:
        raise ValueError(f"block types must be integers >= 0, got {int(b.min())}")
    return b.astype(np.int64)


#: How far (mm) :func:`plate_stl` moves the copies of a corner where blocks of one material
#: meet only diagonally into their own blocks: 1 µm, far below a printer's resolution, far above
#: the float32 spacing of STL coordinates (1.2e-4 mm at 1.6 m) and readers' welding tolerances.
STL_PINCH_MM = 1e-3


def _pinched_corners(mask: np.ndarray) -> np.ndarray:
    """(n+1, m+1) bool: grid corners where blocks of ``mask`` meet only diagonally.

    Corner (I, J) is surrounded by blocks (I−1, J−1), (I−1, J), (I, J−1) and (I, J); it is
    pinched when exactly one diagonal pair of them belongs to the material.
    """
    p = np.pad(mask, 1, constant_values=False)
    a, b = p[:-1, :-1], p[1:, 1:]        # blocks (I−1, J−1) and (I, J)
    c, d = p[:-1, 1:], p[1:, :-1]        # blocks (I−1, J) and (I, J−1)
    return (a & b & ~c & ~d) | (c & d & ~a & ~b)


def _material_mesh(mask: np.ndarray, scale: np.ndarray, pinch_mm: float = 0.0) -> TriMesh:
    """Closed, index-manifold surface of the blocks in ``mask`` (see :func:`plate_meshes`)."""
    n, m = mask.shape
    pad = np.pad(mask, 1, constant_values=False)
    exposed = [(mask, _BOTTOM), (mask, _TOP)] + [   # (blocks showing this face, its corners)
        (mask & ~pad[1 + di: 1 + di + n, 1 + dj: 1 + dj + m], c) for (di, dj), c in _QUAD.items()]
    block, off = [], []                  # per quad corner: block (i, j) and offset (di, dj, dk)
    for keep, corners in exposed:
        ij = np.argwhere(keep)
        block.append(np.repeat(ij[:, None, :], 4, axis=1))
        off.append(np.broadcast_to(np.array(corners), (len(ij), 4, 3)))
    block, off = np.concatenate(block), np.concatenate(off)
    corner = block + off[..., :2]        # grid corner (I, J) of each quad vertex
    # at a pinched corner the two diagonal blocks get their own copy of the vertex: tag = di
    # is 1 for blocks (I−1, ·) and 0 for blocks (I, ·), which separates both diagonal pairs
    tag = np.where(_pinched_corners(mask)[corner[..., 0], corner[..., 1]], off[..., 0], 0)
    key = ((corner[..., 0] * (m + 1) + corner[..., 1]) * 2 + off[..., 2]) * 2 + tag
    uniq, inv = np.unique(key.ravel(), return_inverse=True)
    inv = inv.reshape(-1, 4)
    grid = np.stack([uniq // 4 // (m + 1), uniq // 4 % (m + 1), uniq // 2 % 2], axis=1)
    faces = np.concatenate([inv[:, [0, 1, 2]], inv[:, [0, 2, 3]]])
    vertices = grid * scale
    if pinch_mm > 0:  # move each copy at a pinched corner into its own block (see plate_stl)
        I, J = grid[:, 0], grid[:, 1]
        main_diagonal = pad[I, J]        # block (I−1, J−1) belongs to the material
        dx = np.where(uniq % 2 == 1, -pinch_mm, pinch_mm) * _pinched_corners(mask)[I, J]
        vertices[:, 0] += dx
        vertices[:, 1] += np.where(main_diagonal, dx, -dx)
    return TriMesh(vertices=vertices, faces=faces.astype(np.int64))


def plate_meshes(
    blocks: np.ndarray, block_size_mm: float = 5.0, thickness_mm: float = 2.0, pinch_mm: float = 0.0
) -> dict[int, TriMesh]:
    """Extrude a 2D grid of block types into one closed body per material.

    Parameters
    ----------
    blocks : numpy.ndarray
        (n, m) non-negative integer block types (row i along x, column j along y); each
        distinct value is one material.
    block_size_mm : float
        Edge of a square block in mm.
    thickness_mm : float
        Plate thickness (z) in mm.
    pinch_mm : float
        Distance (mm) by which the two copies of a corner where blocks of one material meet only
        diagonally are moved into their own blocks; 0 keeps the exact geometry (the bodies are
        then 2-manifold by vertex index, as 3MF defines it), a positive value also keeps them
        closed where a reader welds equal coordinates (STL). Each moved copy takes
        ``pinch_mm × block_size_mm × thickness_mm`` off its block's volume.

    Returns
    -------
    dict of int to TriMesh
        Material value → body, in mm, spanning [0, n·size] × [0, m·size] × [0, thickness].
        Only faces between different materials or on the plate edge are emitted, so
        same-material neighbours merge; the volume of a body is its number of blocks ×
        size² × thickness, and the bodies tile the plate without overlap.

    Notes
    -----
    Every body is a closed, consistently oriented 2-manifold in the sense of the 3MF core
    specification (§4.1: every edge, its endpoints taken as *vertex indices*, is shared by
    exactly two triangles). Blocks of one material that touch only at a corner (every interior
    corner of a checkerboard) would otherwise share that vertical edge among four faces. There
    the two diagonal blocks get their own copies of the edge's two vertices, and nowhere else
    (3MF: "SHOULD NOT include duplicate vertices unless coalescing duplicates would create
    non-manifold edges"). We keep one body per material rather than one body per 4-connected
    component because (a) a multi-material slicer assigns a filament per part, so two parts
    ("soft", "stiff") are what the user expects to handle, not dozens of islands, and (b)
    splitting into components does not help a component that touches *itself* at a corner (a
    ring around a pinch), which vertex duplication handles too. Geometrically the copies
    coincide (with ``pinch_mm = 0``): the surface touches itself along that edge, as the
    printed part does.
    """
    b = check_plate_blocks(blocks)
    scale = np.array([_positive_mm("block_size_mm", block_size_mm)] * 2
                     + [_positive_mm("thickness_mm", thickness_mm)])
    if not (isinstance(pinch_mm, numbers.Real) and 0 <= pinch_mm < 0.01 * scale[0]):
        raise ValueError(f"pinch_mm must be a number in [0, block_size_mm / 100), got {pinch_mm!r}")
    return {int(mat): _material_mesh(b == mat, scale, float(pinch_mm)) for mat in np.unique(b)}


def plate_stl(
    blocks: np.ndarray, block_size_mm: float = 5.0, thickness_mm: float = 2.0
) -> dict[int, bytes]:
    """Binary STL (mm) per material of :func:`plate_meshes`.

    STL stores loose triangles without vertex indices, so a reader rebuilds the topology by
    welding equal coordinates. The two copies of a corner where blocks of one material meet only
    diagonally are therefore moved :data:`STL_PINCH_MM` (1 µm) into their blocks, so that the
    welded bodies are closed 2-manifolds (each such corner takes 1 µm × block edge × thickness
    off the volume of each of its two blocks). :func:`designs.threemf.plate_3mf` writes the
    exact geometry of both materials into one 3MF file, which multi-material printers take.
    """
    return {k: v.to_stl(f"matloop plate material {k} mm")
            for k, v in plate_meshes(blocks, block_size_mm, thickness_mm, STL_PINCH_MM).items()}
