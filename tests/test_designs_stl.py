"""STL and 3MF export: binary layout, trimesh validation, volume = ρ, seamless tiling, plates.

The plate bodies are judged by trimesh (watertight, winding, volume, Euler number) and by
scipy.ndimage (4-connected components of a material, 8-connected holes), not by our own code.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile

import numpy as np
import pytest
import trimesh
from lxml import etree
from scipy import ndimage
from scipy.spatial import cKDTree

from designs.spinodal import Spinodoid
from designs.stl import (STL_PINCH_MM, VERTEX_CLEARANCE, TriMesh, body_volumes, checked_stl, part_warnings, plate_meshes,
                         plate_stl, shell_volumes, spinodoid_mesh, spinodoid_part, spinodoid_stl, write_binary_stl)
from designs.threemf import plate_3mf

CELL = 10.0  # mm


def _load(data: bytes) -> trimesh.Trimesh:
    return trimesh.load(io.BytesIO(data), file_type="stl")


def _cap_area(mesh, lo: float, hi: float) -> float:
    """Area of triangles lying (within 1e-3 mm) on the planes x, y or z = lo or hi."""
    tri = mesh.vertices[mesh.faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = 0.0
    for ax in range(3):
        for c in (lo, hi):
            on = np.all(np.abs(tri[:, :, ax] - c) < 1e-3, axis=1)
            total += area[on].sum()
    return total


@pytest.fixture(scope="module")
def periodic_design():
    return Spinodoid(rho=0.4, theta=(90, 90, 90), periodic=True, seed=3)


def test_binary_stl_layout_and_trimesh_validation(periodic_design):
    data = spinodoid_stl(periodic_design, resolution=40, cell_size_mm=CELL)
    n_tri = struct.unpack("<I", data[80:84])[0]
    assert len(data) == 84 + 50 * n_tri and n_tri > 1000
    assert not data[:5].lower().startswith(b"solid")
    m = _load(data)
    assert m.is_watertight and m.is_winding_consistent and m.volume > 0
    # millimetres: the part spans the chosen cell size
    np.testing.assert_allclose(m.bounds, [[0, 0, 0], [CELL] * 3], atol=1e-3)
    assert abs(m.volume / CELL**3 - periodic_design.rho) / periodic_design.rho < 0.02


def test_published_variant_volume_and_watertight():
    s = Spinodoid(rho=0.6, theta=(30, 0, 45), seed=5)
    m = _load(spinodoid_stl(s, resolution=40, cell_size_mm=5.0))
    assert m.is_watertight and m.is_winding_consistent
    assert abs(m.volume / 5.0**3 - 0.6) / 0.6 < 0.02


@pytest.mark.parametrize("rho, theta, periodic, seed, r", [
    (0.3, (90, 90, 90), False, 3, 24), (0.3, (90, 90, 90), True, 3, 24), (0.2, (90, 90, 90), False, 3, 24),
    (0.8, (30, 0, 45), True, 3, 24), (0.2, (5, 5, 5), False, 2, 20), (0.95, (90, 90, 90), True, 0, 20)])
def test_the_part_encloses_the_solid_fraction_its_samples_hold(rho: float, theta: tuple, periodic: bool, seed: int,
                                                               r: int) -> None:
    """Marching cubes at the design's level cut the solid short where it is the minority phase (0.272 of the
    box for ρ = 0.3 at 24 samples a side) and long where it is the majority: the part encloses the share of the
    box that the voxels the mechanics keeps hold, after bodies and cavities below a voxel are dropped and filled,
    and so ρ less the floating islands."""
    design = Spinodoid(rho=rho, theta=theta, periodic=periodic, seed=seed)
    mesh, report = spinodoid_part(design, r, 10.0)
    m = _load(mesh.to_stl())
    assert m.is_watertight and m.is_winding_consistent
    assert report == design.structure(r)[1]  # the voxels fem.homogenize keeps at this resolution
    assert m.volume / 10.0**3 == pytest.approx(report.connected_fraction, rel=1.001e-3)
    islands = report.solid_fraction - report.connected_fraction  # left out, as the mechanics leaves them out
    assert m.volume / 10.0**3 + islands == pytest.approx(rho, rel=2e-3)
    assert np.abs(shell_volumes(mesh)).min() >= (10.0 / r) ** 3  # nothing below a voxel


def test_the_part_is_the_structure_its_label_keeps():
    """Sampled on the grid nodes, this periodic cell kept no percolating cluster at 20 samples a side and its part
    was refused, while its label at 20³ voxels keeps 13 % of the cell, joined along z; the part is now drawn round
    the voxels the label keeps."""
    design = Spinodoid(rho=0.2, theta=(30, 0, 45), periodic=True, seed=7)
    mesh, report = spinodoid_part(design, 20, 10.0)
    kept, labelled = design.structure(20)
    assert report == labelled and labelled.percolates == (False, False, True)
    m = _load(mesh.to_stl())
    assert m.is_watertight and m.is_winding_consistent
    assert m.volume / 10.0**3 == pytest.approx(kept.mean(), rel=1.001e-3)
    assert kept.mean() == pytest.approx(0.132, abs=1e-3)
    assert part_warnings(mesh, report)[0] == ("the part joins opposite faces only along z: it has no stiffness "
                                              "along x and y")


def test_a_design_of_which_nothing_carries_load_is_refused_in_words():
    """No voxel cluster of this periodic cell percolates at 20 samples: scikit-image's "Surface level must be
    within volume data range" reached the CLI; now the part is refused with what to change."""
    with pytest.raises(ValueError, match=r"^nothing of this spinodoid carries load at 20 samples a side \(ρ = 0.1\): "
                                         "no solid cluster percolates through the periodic cell; raise ρ"):
        spinodoid_part(Spinodoid(rho=0.1, theta=(30, 0, 45), periodic=True, seed=7), 20, 10.0)


def test_tiling_is_seamless(periodic_design):
    one = spinodoid_mesh(periodic_design, resolution=32, cell_size_mm=CELL, tiles=1)
    two = spinodoid_mesh(periodic_design, resolution=32, cell_size_mm=CELL, tiles=2)
    m1, m2 = _load(one.to_stl()), _load(two.to_stl())
    assert m2.is_watertight and m2.is_winding_consistent
    assert m2.volume == pytest.approx(8 * m1.volume, rel=2e-3)
    # no internal faces: nothing lies on the internal planes x, y, z = CELL ...
    tri = two.vertices[two.faces]
    for ax in range(3):
        on = np.all(np.abs(tri[:, :, ax] - CELL) < 1e-6, axis=1)
        nrm = np.cross(tri[on, 1] - tri[on, 0], tri[on, 2] - tri[on, 0])
        # a triangle in the plane with a normal along the axis would be a cap (internal face)
        assert np.all(np.abs(nrm[:, ax]) < 1e-9 * (1 + np.linalg.norm(nrm, axis=1)))
    # ... and the area is that of 8 cells less their internal caps (half of all caps), to what the outer half
    # voxel of a cell changes: it is drawn straight to the faces, where the tiled part runs on through the plane
    # (+1.0 % here)
    caps1 = _cap_area(one, 0.0, CELL)
    caps_outer2 = _cap_area(two, 0.0, 2 * CELL)
    assert caps1 > 0
    assert caps_outer2 == pytest.approx(4 * caps1, rel=1e-3)
    assert m2.area == pytest.approx(8 * m1.area - 4 * caps1, rel=0.02)


def test_stl_bad_input():
    s = Spinodoid(rho=0.5)
    with pytest.raises(ValueError, match="periodic"):
        spinodoid_mesh(s, resolution=24, tiles=2)
    with pytest.raises(ValueError, match="cell edge must be a number of millimetres from 0.01 to 1000"):
        spinodoid_mesh(s, resolution=24, cell_size_mm=0.0)
    with pytest.raises(ValueError, match="tiles"):
        spinodoid_mesh(Spinodoid(rho=0.5, periodic=True), resolution=24, tiles=0)
    with pytest.raises(ValueError, match="too coarse for this spinodoid"):
        spinodoid_mesh(s, resolution=8)


def _bodies(mesh) -> list[trimesh.Trimesh]:
    """trimesh's split of a spinodoid mesh into shells, keeping bodies (positive volume)."""
    shells = trimesh.Trimesh(mesh.vertices, mesh.faces, process=True).split(only_watertight=False)
    return [b for b in shells if b.volume > 0]


@pytest.mark.parametrize(("design", "tiles"), [(Spinodoid(rho=0.1, seed=0), 1),
                                               (Spinodoid(rho=0.2, periodic=True, seed=2), 2)])
def test_spinodoid_stl_drops_floating_islands_and_counts_its_bodies(design, tiles):
    """Every body of the file reaches the box faces (what the mechanics keeps); the count and
    volumes of the bodies agree with trimesh's split."""
    r = 48 if not design.periodic else 40
    mesh = spinodoid_mesh(design, resolution=r, cell_size_mm=CELL, tiles=tiles)
    side = CELL * tiles
    bodies = _bodies(mesh)
    vols = body_volumes(mesh)
    assert len(vols) == len(bodies) > 1                 # both fall apart: ρ = 0.1 and 0.2
    np.testing.assert_allclose(vols, sorted((b.volume for b in bodies), reverse=True), rtol=1e-9)
    assert vols.sum() == pytest.approx(mesh.volume, rel=1e-9)
    for b in bodies:                                   # no floating island in the file
        assert b.bounds.min() < 1e-3 or b.bounds.max() > side - 1e-3
    # ... while the voxels have floating islands (clusters touching no face)
    solid = np.tile(design.voxels(r), (tiles,) * 3)
    lab, n = ndimage.label(solid)
    on_face = set()
    for ax in range(3):
        on_face |= set(np.unique(np.take(lab, 0, axis=ax))) | set(np.unique(np.take(lab, -1, axis=ax)))
    assert n - len(on_face - {0}) > 0


def test_connected_spinodoid_is_one_body():
    mesh = spinodoid_mesh(Spinodoid(rho=0.6, seed=2), resolution=40, cell_size_mm=CELL)
    assert len(body_volumes(mesh)) == len(_bodies(mesh)) == 1



@pytest.mark.parametrize(("design", "cavities"), [(Spinodoid(rho=0.95, seed=0), True),
                                                  (Spinodoid(rho=0.9, periodic=True, seed=0), True),
                                                  (Spinodoid(rho=0.6, seed=2), False)])
def test_sealed_cavities_are_counted_as_trimesh_finds_them_and_warned_of(design, cavities):
    """Dense parts hold voids that no opening joins to the outside (trapped resin or powder): the
    warning counts the shells trimesh finds with negative volume and gives their volume."""
    mesh, report = spinodoid_part(design, resolution=40, cell_size_mm=CELL)
    shells = trimesh.Trimesh(mesh.vertices, mesh.faces, process=True).split(only_watertight=False)
    walls = [s.volume for s in shells if s.volume < 0]
    volumes = shell_volumes(mesh)
    assert (len(walls) > 0) == cavities and (volumes < 0).sum() == len(walls)
    assert volumes.sum() == pytest.approx(mesh.volume, rel=1e-9)
    warned = [w for w in part_warnings(mesh, report) if "sealed cavit" in w]
    if cavities:
        n = len(walls)
        assert warned == [w for w in part_warnings(mesh, report, volumes) if "sealed cavit" in w]
        assert f"holds {n} sealed cavit{'y' if n == 1 else 'ies'} ({-sum(walls):.3g} mm³ in all)" in warned[0]
    else:
        assert warned == []

def test_write_binary_stl_single_triangle():
    data = write_binary_stl(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0.0]]), np.array([[0, 1, 2]]))
    assert len(data) == 134
    vals = struct.unpack("<12fH", data[84:])
    assert vals[:3] == (0.0, 0.0, 1.0)  # unit normal +z


def test_plate_bodies_volumes_and_sizes():
    blocks = np.array([[0, 1, 0, 2], [1, 0, 1, 2], [0, 1, 0, 2]])
    size, thick = 5.0, 2.0
    stls = plate_stl(blocks, block_size_mm=size, thickness_mm=thick)
    assert sorted(stls) == [0, 1, 2]
    for mat, data in stls.items():
        n_tri = struct.unpack("<I", data[80:84])[0]
        assert len(data) == 84 + 50 * n_tri
        m = _load(data)
        # the blocks' volume, less the 1 µm notches at corners where blocks of one material meet
        assert m.volume == pytest.approx(_block_area(blocks == mat, size, STL_PINCH_MM) * thick)
    # STL welds equal coordinates: a body without corner-only contacts stays a closed 2-manifold
    m2 = _load(stls[2])
    assert m2.is_watertight and m2.is_winding_consistent
    np.testing.assert_allclose(m2.bounds, [[0, 15, 0], [15, 20, 2]])  # rows along x
    # the bodies tile the plate without overlap
    total = sum(_load(d).volume for d in stls.values())
    assert total == pytest.approx(sum(_block_area(blocks == m, size, STL_PINCH_MM) for m in stls) * thick)
    assert total == pytest.approx(blocks.size * size**2 * thick, rel=1e-3)


def test_plate_merges_same_material_neighbours():
    meshes = plate_meshes(np.array([[3, 3], [3, 3]]), block_size_mm=1.0, thickness_mm=1.0)
    m = trimesh.Trimesh(meshes[3].vertices, meshes[3].faces)
    assert m.is_watertight
    assert m.area == pytest.approx(2 * 4 + 4 * 2)  # a 2×2×1 box, no internal faces


def _random_plates(count: int = 200, seed: int = 20240611) -> list[tuple[np.ndarray, float, float]]:
    """Seeded 8×8 soft (0) / stiff (1) plates with soft fractions from 0 to 1, plus special
    grids (perfect checkerboards, all-soft, all-stiff, non-square); block edge and thickness in mm."""
    rng = np.random.default_rng(seed)
    grids = [(rng.random((8, 8)) >= rng.uniform(0, 1)).astype(int) for _ in range(count)]
    checker = np.indices((8, 8)).sum(axis=0) % 2
    grids += [checker, 1 - checker, np.zeros((8, 8), int), np.ones((8, 8), int),
              np.indices((2, 8)).sum(axis=0) % 2, np.indices((5, 3)).sum(axis=0) % 2,
              rng.integers(0, 2, (2, 8)), rng.integers(0, 2, (5, 3)), rng.integers(0, 2, (1, 7)),
              np.array([[1]])]
    return [(g, float(rng.uniform(0.5, 20)), float(rng.uniform(0.2, 10))) for g in grids]


PLATES = _random_plates()


def _expected_euler(mask: np.ndarray) -> int:
    """Euler number of the surface of the extruded blocks: 2 (components − holes), with the
    blocks 4-connected and the holes 8-connected (the digital-topology pair), via scipy."""
    components = ndimage.label(mask)[1]
    outside = np.pad(~mask, 1, constant_values=True)
    holes = ndimage.label(outside, structure=np.ones((3, 3)))[1] - 1
    return 2 * (components - holes)


def _pinches(mask: np.ndarray) -> int:
    """Corners where blocks of ``mask`` meet only diagonally, counted by brute force."""
    p = np.pad(mask, 1)
    return sum(
        int((p[i, j] and p[i + 1, j + 1] and not p[i, j + 1] and not p[i + 1, j])
            or (p[i, j + 1] and p[i + 1, j] and not p[i, j] and not p[i + 1, j + 1]))
        for i in range(p.shape[0] - 1) for j in range(p.shape[1] - 1)
    )


def _block_area(mask: np.ndarray, size: float, pinch: float = 0.0) -> float:
    """Top area of the blocks when each of the two copies at a pinch is moved ``pinch`` into its block."""
    return mask.sum() * size**2 - 2 * _pinches(mask) * pinch * size


def _check_body(body: trimesh.Trimesh, mask: np.ndarray, size: float, thick: float) -> None:
    """Closed, outward, exact volume, right topology, right place (top faces over its blocks)."""
    assert body.is_watertight and body.is_winding_consistent
    assert math.isclose(body.volume, _block_area(mask, size) * thick, rel_tol=1e-9)
    assert body.euler_number == _expected_euler(mask)
    assert len(body.split(only_watertight=True)) == ndimage.label(mask)[1]
    top = body.face_normals[:, 2] > 0.5
    assert np.allclose(body.triangles_center[top, 2], thick)
    ij = np.floor(body.triangles_center[top, :2] / size).astype(int)
    covered = np.zeros_like(mask)
    covered[ij[:, 0], ij[:, 1]] = True
    np.testing.assert_array_equal(covered, mask)
    assert math.isclose(body.area_faces[top].sum(), _block_area(mask, size), rel_tol=1e-9)


def _four_face_edges(mesh: trimesh.Trimesh) -> int:
    """Edges shared by more than two faces once equal coordinates are welded (as an STL reader does)."""
    welded = trimesh.Trimesh(mesh.vertices, mesh.faces)  # process=True merges equal vertices
    _, counts = np.unique(welded.edges_sorted, axis=0, return_counts=True)
    assert set(counts.tolist()) <= {2, 4}
    return int((counts == 4).sum())


def test_every_plate_body_is_a_closed_2_manifold_of_the_right_volume():
    for blocks, size, thick in PLATES:
        bodies = plate_meshes(blocks, block_size_mm=size, thickness_mm=thick)
        assert sorted(bodies) == np.unique(blocks).tolist()
        total, corners = 0.0, []
        for mat, tm in bodies.items():
            body = trimesh.Trimesh(tm.vertices, tm.faces, process=False)  # our vertex indices, as 3MF keeps them
            _check_body(body, blocks == mat, size, thick)
            assert math.isclose(tm.volume, body.volume, rel_tol=1e-12)
            # vertices are duplicated only along corner-contact edges: 2 per such edge
            assert len(body.vertices) - len(np.unique(body.vertices, axis=0)) == 2 * _four_face_edges(body)
            assert _four_face_edges(body) == _pinches(blocks == mat)
            total += body.volume
            corners.append(body.bounds)
        # bodies tile the plate: together they span it, their volumes add up to the plate's,
        # so none overlap
        corners = np.array(corners)
        np.testing.assert_allclose([corners[:, 0].min(axis=0), corners[:, 1].max(axis=0)],
                                   [[0, 0, 0], [blocks.shape[0] * size, blocks.shape[1] * size, thick]])
        assert math.isclose(total, blocks.size * size**2 * thick, rel_tol=1e-9)


def test_every_plate_stl_welds_into_closed_bodies():
    """STL readers weld equal coordinates: the 1 µm moved pinch copies keep every body closed,
    with the volume its blocks have less the notches (float32 coordinates in the file)."""
    for blocks, size, thick in PLATES:
        for mat, data in plate_stl(blocks, block_size_mm=size, thickness_mm=thick).items():
            welded = _load(data)
            assert welded.is_watertight and welded.is_winding_consistent
            assert _four_face_edges(welded) == 0
            assert len(welded.split(only_watertight=True)) == ndimage.label(blocks == mat)[1]
            expected = _block_area(blocks == mat, size, STL_PINCH_MM) * thick
            assert math.isclose(welded.volume, expected, rel_tol=1e-5)


def test_checkerboard_corner_contacts_are_split():
    """The issue's case: 49 interior corners of an 8×8 checkerboard, each an edge of four faces
    before; now closed bodies, 32 separate cubes per material, in memory and as STL files."""
    checker = np.indices((8, 8)).sum(axis=0) % 2
    assert _pinches(checker == 0) == _pinches(checker == 1) == 49
    for mat, tm in plate_meshes(checker, 5.0, 2.0).items():
        body = trimesh.Trimesh(tm.vertices, tm.faces, process=False)
        assert body.is_watertight and len(body.split(only_watertight=True)) == 32
        assert _four_face_edges(body) == 49  # index-manifold only: the copies coincide
        stl = _load(plate_stl(checker, 5.0, 2.0)[mat])
        assert stl.is_watertight and len(stl.split(only_watertight=True)) == 32


def test_a_body_touching_itself_at_a_corner_is_one_closed_ring():
    """Soft ring whose inner blocks meet diagonally at a stiff pinch: one soft body of genus 1
    (the two stiff blocks form one hole), two separate stiff cubes."""
    blocks = np.zeros((4, 4), int)
    blocks[1, 2] = blocks[2, 1] = 1
    bodies = plate_meshes(blocks, 1.0, 1.0)
    soft = trimesh.Trimesh(bodies[0].vertices, bodies[0].faces, process=False)
    stiff = trimesh.Trimesh(bodies[1].vertices, bodies[1].faces, process=False)
    assert soft.is_watertight and soft.body_count == 1 and soft.euler_number == 0
    assert stiff.is_watertight and stiff.body_count == 2 and stiff.euler_number == 4
    assert soft.volume == pytest.approx(14.0) and stiff.volume == pytest.approx(2.0)


def test_plate_3mf_round_trips_through_trimesh():
    for blocks, size, thick in PLATES:
        data = plate_3mf(blocks, size, thick, palette=("soft", "stiff"))
        # process=False: 3MF defines a mesh's edges by vertex index, so keep them as written
        scene = trimesh.load(io.BytesIO(data), file_type="3mf", process=False)
        present = {("soft", "stiff")[v] for v in np.unique(blocks)}
        assert set(scene.geometry) == present and set(scene.graph.nodes_geometry) == present
        assert scene.units.startswith("millimeter")
        for name, body in scene.geometry.items():
            _check_body(body, blocks == ("soft", "stiff").index(name), size, thick)
        welded = trimesh.load(io.BytesIO(data), file_type="3mf")  # trimesh's default: welded
        for name, body in welded.geometry.items():
            assert math.isclose(body.volume, (blocks == ("soft", "stiff").index(name)).sum() * size**2 * thick,
                                rel_tol=1e-9)


def test_plate_3mf_package_names_each_material():
    data = plate_3mf(np.indices((3, 4)).sum(axis=0) % 2, 4.0, 1.5)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert {"[Content_Types].xml", "_rels/.rels", "3D/3dmodel.model"} <= set(package.namelist())
        model = etree.fromstring(package.read("3D/3dmodel.model"))
    core = "{http://schemas.microsoft.com/3dmanufacturing/core/2015/02}"
    assert model.tag == f"{core}model" and model.get("unit") == "millimeter"
    objects = model.findall(f"{core}resources/{core}object")
    assert [(o.get("name"), o.get("type")) for o in objects] == [("soft", "model"), ("stiff", "model")]
    items = model.findall(f"{core}build/{core}item")
    assert sorted(i.get("partnumber") for i in items) == ["soft", "stiff"]


def test_plate_bad_input():
    good = np.zeros((2, 2), int)
    with pytest.raises(ValueError, match="2D"):
        plate_meshes(np.zeros((2, 2, 2), int))
    with pytest.raises(ValueError, match="2D"):
        plate_meshes(np.zeros(4, int))
    with pytest.raises(ValueError, match="non-empty"):
        plate_meshes(np.zeros((0, 3), int))
    with pytest.raises(ValueError, match="integer"):
        plate_meshes(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="integer"):
        plate_meshes(np.array([[0, np.nan], [1, 0]]))
    with pytest.raises(ValueError, match="integer"):
        plate_meshes(np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=">= 0"):
        plate_meshes(np.array([[0, -1], [1, 0]]))
    for bad in (-1, 0, 0.0, float("nan"), float("inf"), True, "5"):
        with pytest.raises(ValueError, match="thickness_mm must be a positive finite number"):
            plate_meshes(good, thickness_mm=bad)
        with pytest.raises(ValueError, match="block_size_mm must be a positive finite number"):
            plate_stl(good, block_size_mm=bad)
        with pytest.raises(ValueError, match="block_size_mm"):
            plate_3mf(good, block_size_mm=bad)
    with pytest.raises(ValueError, match="block type 2 has no name"):
        plate_3mf(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="palette"):
        plate_3mf(good, palette=("soft", "soft"))
    with pytest.raises(ValueError, match="palette"):
        plate_3mf(good, palette=())
    with pytest.raises(ValueError, match="integer"):
        plate_3mf(np.full((2, 2), np.nan))


@pytest.mark.parametrize("cell_mm", [0.01, 0.05, 0.3, 1.0, 1000.0])
def test_spinodoid_stl_is_closed_for_every_cell_edge(cell_mm: float):
    """Read back as a slicer reads it (float32 coordinates, trimesh merging vertices within 1e-8 mm), the
    STL is one closed surface of the right volume at every cell edge of CELL_MM_RANGE.

    Before the caps were welded and the node values moved off the level, cells of 1 mm and less came out
    open: a cap vertex lay 3e-7 samples from the neighbouring cap's at each box edge, and float32 and
    trimesh joined them (the command line refused 0.01–1 mm, the page wrote the broken file)."""
    for design, tiles in ((Spinodoid(rho=0.5), 1), (Spinodoid(rho=0.3, periodic=True, seed=1), 2)):
        mesh = spinodoid_mesh(design, resolution=24, cell_size_mm=cell_mm, tiles=tiles)
        m = _load(checked_stl(mesh))
        assert m.is_watertight and m.is_winding_consistent
        assert m.volume == pytest.approx(mesh.volume, rel=1e-5)
        np.testing.assert_allclose(m.bounds, [[0, 0, 0], [cell_mm * tiles] * 3], rtol=1e-6, atol=0)
        # no two vertices nearer than VERTEX_CLEARANCE samples
        v = np.asarray(mesh.vertices)
        pairs = cKDTree(v).query_pairs(VERTEX_CLEARANCE * cell_mm / 24, output_type="ndarray")
        assert len(pairs) == 0


def test_checked_stl_refuses_an_open_surface():
    mesh = spinodoid_mesh(Spinodoid(rho=0.5), resolution=24, cell_size_mm=1.0)
    with pytest.raises(ValueError, match="not closed; nothing written"):
        checked_stl(TriMesh(vertices=mesh.vertices, faces=mesh.faces[1:]))
    with pytest.raises(ValueError, match="empty"):
        checked_stl(TriMesh(vertices=mesh.vertices, faces=mesh.faces[:0]))


def test_a_campaign_export_says_why_a_design_has_no_part(monkeypatch):
    """A best design of which nothing carries load (here at 20 samples, the exporter's resolution made so) gets
    no STL in the zip, and the zip's part warnings say why."""
    from types import SimpleNamespace

    import designs.stl
    from engine.campaigns.report import _design_files

    monkeypatch.setattr(designs.stl, "spinodoid_part", lambda design: spinodoid_part(design, 20, 10.0))
    design = Spinodoid(rho=0.1, theta=(30, 0, 45), periodic=True, seed=7)
    files, warnings = _design_files(SimpleNamespace(candidate=SimpleNamespace(id=4, design=design)), "stl")
    assert files == {} and len(warnings) == 1
    assert warnings[0].startswith(f"design-4-{design.content_hash()[:12]}.stl not written: nothing of this spinodoid "
                                  "carries load")
