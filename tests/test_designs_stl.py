"""STL export: binary layout, trimesh validation, volume = ρ, seamless tiling, plates."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import trimesh

from designs.spinodal import Spinodoid
from designs.stl import plate_meshes, plate_stl, spinodoid_mesh, spinodoid_stl, write_binary_stl

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
    # ... and the area equals 8 cells minus their internal caps (half of all caps)
    caps1 = _cap_area(one, 0.0, CELL)
    caps_outer2 = _cap_area(two, 0.0, 2 * CELL)
    assert caps1 > 0
    assert caps_outer2 == pytest.approx(4 * caps1, rel=1e-3)
    assert m2.area == pytest.approx(8 * m1.area - 4 * caps1, rel=2e-3)


def test_stl_bad_input():
    s = Spinodoid(rho=0.5)
    with pytest.raises(ValueError, match="periodic"):
        spinodoid_mesh(s, resolution=24, tiles=2)
    with pytest.raises(ValueError, match="cell_size_mm"):
        spinodoid_mesh(s, resolution=24, cell_size_mm=0.0)
    with pytest.raises(ValueError, match="tiles"):
        spinodoid_mesh(Spinodoid(rho=0.5, periodic=True), resolution=24, tiles=0)
    with pytest.raises(ValueError, match="too small"):
        spinodoid_mesh(s, resolution=8)


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
        assert m.volume == pytest.approx((blocks == mat).sum() * size**2 * thick)
    # a body without corner-only contacts is a closed 2-manifold
    m2 = _load(stls[2])
    assert m2.is_watertight and m2.is_winding_consistent
    np.testing.assert_allclose(m2.bounds, [[0, 15, 0], [15, 20, 2]])  # rows along x
    # the bodies tile the plate without overlap
    total = sum(_load(d).volume for d in stls.values())
    assert total == pytest.approx(blocks.size * size**2 * thick)


def test_plate_merges_same_material_neighbours():
    meshes = plate_meshes(np.array([[3, 3], [3, 3]]), block_size_mm=1.0, thickness_mm=1.0)
    m = trimesh.Trimesh(meshes[3].vertices, meshes[3].faces)
    assert m.is_watertight
    assert m.area == pytest.approx(2 * 4 + 4 * 2)  # a 2×2×1 box, no internal faces


def test_plate_bad_input():
    with pytest.raises(ValueError, match="2D"):
        plate_meshes(np.zeros((2, 2, 2), int))
    with pytest.raises(ValueError, match="integer"):
        plate_meshes(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="thickness_mm"):
        plate_meshes(np.zeros((2, 2), int), thickness_mm=-1)
