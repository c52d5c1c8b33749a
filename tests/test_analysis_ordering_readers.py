"""Rules every configuration follows, from any reader (CSV, XYZ, GSD) and from Python: particles
far outside a periodic box, particles on or next to another one, coordinates quoted as the file
writes them (XYZ ``Origin``), any length unit; and the text variants a stranger brought.

Outside references: exact wrapping by integer box lengths; a brute-force minimum-image distance
matrix (plain NumPy) for the close pairs; the published fcc q6 = 0.57452 at every length scale.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import freud
import gsd.hoomd
import numpy as np
import pytest

from engine.analysis.ordering import ParticleSystem, lattice, read_csv, read_xyz
from engine.analysis.ordering.configurations import read_configuration, write_configuration
from engine.analysis.ordering.read_gsd import read_gsd
from engine.analysis.ordering.neighbors import neighbor_list
from engine.analysis.ordering.steinhardt import minkowski, steinhardt
from engine.analysis.ordering.systems import CLOSE_FRACTION, MAX_BOX_IMAGES


def _csv(path: Path, system: ParticleSystem, rows: np.ndarray | None = None, header: str = "") -> Path:
    rows = system.positions if rows is None else rows
    box = " ".join(repr(float(v)) for v in system.box.L[: system.dim])
    text = f"# box: {box}\n{header}{','.join('xyz'[: system.dim])}\n"
    text += "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)
    path.write_text(text)
    return path


def _xyz(path: Path, rows: np.ndarray, lengths: list[float], extra: str = "") -> Path:
    lat = f"{lengths[0]} 0 0 0 {lengths[1]} 0 0 0 {lengths[2]}"
    body = "".join(f"A {x!r} {y!r} {z!r}\n" for x, y, z in rows.tolist())
    path.write_text(f"{len(rows)}\nLattice=\"{lat}\" {extra}\n{body}")
    return path


def _gsd(path: Path, rows: np.ndarray, lengths: list[float]) -> Path:
    with gsd.hoomd.open(str(path), "w") as trajectory:
        frame = gsd.hoomd.Frame()
        frame.configuration.dimensions = 3
        frame.configuration.box = [*lengths, 0.0, 0.0, 0.0]
        frame.particles.N = len(rows)
        frame.particles.position = np.asarray(rows, dtype=np.float32)
        frame.particles.types = ["A"]
        frame.particles.typeid = np.zeros(len(rows), dtype=np.uint32)
        trajectory.append(frame)
    return path


# --- 1. far outside a periodic box ------------------------------------------------------------

def test_unwrapped_coordinates_up_to_the_limit_wrap_exactly() -> None:
    """Unwrapped coordinates of a long run (999 box lengths away) wrap to the same position as the
    wrapped ones, to double precision: the rule refuses only what wrapping cannot place."""
    fcc = lattice("fcc", 3, lindemann=0.05, seed=1)
    L = np.asarray(fcc.box.L, dtype=float)
    shifts = np.random.default_rng(0).integers(-MAX_BOX_IMAGES + 1, MAX_BOX_IMAGES, size=fcc.positions.shape)
    unwrapped = ParticleSystem(fcc.positions + shifts * L, fcc.box)
    np.testing.assert_allclose(unwrapped.positions, fcc.positions, rtol=0, atol=1e-12 * MAX_BOX_IMAGES * L.max())


@pytest.mark.parametrize("value", [1e17, -1e17, 1e300, (MAX_BOX_IMAGES + 0.6) * 4.0])
def test_far_outside_a_periodic_box_is_refused_from_python(value: float) -> None:
    box = freud.box.Box.cube(4.0)
    positions = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [value, 0.5, 0.5]])
    with pytest.raises(ValueError, match=rf"1 particle\(s\) lie more than {MAX_BOX_IMAGES} box lengths outside the "
                                         rf"periodic box \(first: particle 2, x = {re.escape(repr(value))},"):
        ParticleSystem(positions, box)


def test_far_outside_a_periodic_box_is_refused_by_every_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fcc = lattice("fcc", 2)
    L = float(fcc.box.Lx)
    rows = fcc.positions.copy()
    rows[3, 0] = 1e17
    reach = (MAX_BOX_IMAGES + 0.5) * L
    with pytest.raises(ValueError, match=rf"far\.csv: 1 particle\(s\) lie more than 1000 box lengths outside the periodic "
                                         rf"box \(first: line 6, x = 1e\+17, .*x in \[{-reach:.6g}, {reach:.6g}\]"):
        read_csv(_csv(tmp_path / "far.csv", fcc, rows))
    corner = fcc.positions + L / 2
    corner[3, 0] = 1e17
    with pytest.raises(ValueError, match=rf"far\.xyz: 1 particle\(s\) lie more .* \(first: line 6, x = 1e\+17, .*"
                                         rf"x in \[{L / 2 - reach:.6g}, {L / 2 + reach:.6g}\]"):  # the file's frame: [0, L)
        read_xyz(_xyz(tmp_path / "far.xyz", corner, [L, L, L]))
    with pytest.raises(ValueError, match=r"far\.gsd, frame 0: 1 particle\(s\) lie more than 1000 box lengths .* "
                                         r"\(first: particle 3, x = 9\.99999\d*e\+16"):  # float32
        read_gsd(_gsd(tmp_path / "far.gsd", rows, [L, L, L]))
    from engine.cli import main

    assert main(["order", "classify", str(tmp_path / "far.csv")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "far.csv: 1 particle(s) lie more than 1000 box lengths" in error[0]


# --- 2. particles on or next to another one -----------------------------------------------------

def _brute_force_close(positions: np.ndarray, box: freud.box.Box, limit: float) -> set[tuple[int, int]]:
    """Pairs closer than ``limit`` by the minimum image over all 27 neighbour cells (plain NumPy)."""
    matrix = np.asarray(box.to_matrix(), dtype=float)
    periodic = np.asarray(box.periodic, dtype=bool)
    shifts = np.array([s for s in np.ndindex(3, 3, 3)]) - 1
    shifts = shifts[np.all((shifts == 0) | periodic, axis=1)] @ matrix.T
    delta = positions[None, :, :] - positions[:, None, :]
    d = np.min(np.linalg.norm(delta[:, :, None, :] + shifts[None, None, :, :], axis=-1), axis=-1)
    i, j = np.nonzero(np.triu(d < limit, k=1))
    return set(zip(i.tolist(), j.tolist()))


@pytest.mark.parametrize("tilt", [0.0, 0.4])
@pytest.mark.parametrize("periodic", [(True, True, True), (True, False, True)])
def test_close_pairs_match_a_brute_force_search_across_faces(tilt: float, periodic: tuple[bool, ...]) -> None:
    """Pairs planted a thousandth of the limit apart — inside the box, across the x face and across
    the x-z edge, on opposite sides of the box — are found exactly as a brute-force minimum-image
    search finds them; pairs ten times the limit apart pass."""
    rng = np.random.default_rng(3)
    box = freud.box.Box(5.0, 4.0, 6.0, tilt, 0.0, 0.0)
    box.periodic = list(periodic)
    matrix = np.asarray(box.to_matrix(), dtype=float)
    n = 60
    spacing = (np.linalg.det(matrix) / (n + 6)) ** (1 / 3)
    base = rng.uniform(-0.45, 0.45, size=(n, 3)) @ matrix.T
    anchors = np.array([[0.1, 0.1, 0.1], [0.5, 0.2, -0.3], [0.5, 0.1, 0.5]])  # fractional
    for apart, refused in [(1e-3 * CLOSE_FRACTION, True), (10 * CLOSE_FRACTION, False)]:
        step = apart * spacing / np.linalg.norm(matrix[:, 0])  # along a1, in box vectors
        first = anchors - np.where(anchors == 0.5, step / 2, 0.0)  # just inside the +face (or mid-box)
        second = np.where(anchors == 0.5, -0.5 + step / 2, anchors + np.array([step, 0, 0])[None, :] * (anchors != 0.5))
        positions = np.vstack([base, first @ matrix.T, second @ matrix.T])
        truth = _brute_force_close(positions, box, CLOSE_FRACTION * spacing)
        assert len(truth) == (3 if refused else 0)
        if refused:
            frac = np.linalg.solve(matrix, ParticleSystem(positions[:n + 3], box).positions.T).T
            assert (frac[n + 1:, 0] > 0.49).all() and (second[1:, 0] < -0.49).all()  # opposite faces
            with pytest.raises(ValueError, match=r"3 particle\(s\) lie closer than .* \(first: particles 60 and 63 are"):
                ParticleSystem(positions, box)
        else:
            ParticleSystem(positions, box)


def test_near_duplicates_are_refused_by_every_reader_naming_both(tmp_path: Path) -> None:
    fcc = lattice("fcc", 2, lindemann=0.05, seed=4)
    L = float(fcc.box.Lx)
    rows = np.vstack([fcc.positions, fcc.positions[5] + [1e-9, 0.0, 0.0]])
    spacing = (L**3 / len(rows)) ** (1 / 3)
    message = (rf"1 particle\(s\) lie closer than {CLOSE_FRACTION * spacing:.3g} length units to another one \(first: "
               r"{who} are 1e-09 apart, at x y z = .*; every particle needs its own position: particles closer than "
               rf"1e-06 of the mean spacing \(V/N\)\^\(1/3\) = {spacing:.4g}")
    with pytest.raises(ValueError, match=r"near\.csv: " + message.replace("{who}", "lines 8 and 35")):
        read_csv(_csv(tmp_path / "near.csv", fcc, rows))
    with pytest.raises(ValueError, match=r"near\.xyz: " + message.replace("{who}", "lines 8 and 35")):
        read_xyz(_xyz(tmp_path / "near.xyz", rows + L / 2, [L, L, L]))
    with pytest.raises(ValueError, match=r"^" + message.replace("{who}", "particles 5 and 32")):
        ParticleSystem(rows, fcc.box)
    # float32 cannot hold 1e-9 apart near 1: a GSD duplicate lands on the same position
    with pytest.raises(ValueError, match=r"near\.gsd, frame 0: 1 particle\(s\) sit exactly on another one \(first: "
                                         r"particles 5 and 32 sit on the same position"):
        read_gsd(_gsd(tmp_path / "near.gsd", rows, [L, L, L]))
    # a periodic image of a particle is the same position
    image = np.vstack([fcc.positions, fcc.positions[2] + [L, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"sit exactly on another one \(first: lines 5 and 35 sit on the same position, "
                                         r"at x y z = (\S+ ){3}and x y z ="):
        read_csv(_csv(tmp_path / "image.csv", fcc, image))


# --- 3. XYZ Origin and the file's own coordinates --------------------------------------------

def test_xyz_origin_is_honoured_and_messages_quote_the_file(tmp_path: Path) -> None:
    """OVITO writes the box corner as ``Origin``: positions are centred from it, and a particle outside a
    non-periodic box is quoted as written, with the box where the file puts it."""
    fcc = lattice("fcc", 3, lindemann=0.03, seed=2)
    L = float(fcc.box.Lx)
    origin = np.array([10.0, -3.0, 0.5])
    rows = fcc.positions + L / 2 + origin
    path = _xyz(tmp_path / "ovito.xyz", rows, [L, L, L], f'pbc="F F F" Origin="{origin[0]} {origin[1]} {origin[2]}"')
    system = read_xyz(path)
    np.testing.assert_allclose(system.positions, fcc.positions, atol=1e-12)
    closed = freud.box.Box.cube(L)
    closed.periodic = [False] * 3
    np.testing.assert_allclose(steinhardt(system, 6), steinhardt(ParticleSystem(fcc.positions, closed), 6), atol=1e-6)
    rows[4, 1] = -3.5
    path = _xyz(tmp_path / "out.xyz", rows, [L, L, L], f"pbc='F F F' Origin='{origin[0]} {origin[1]} {origin[2]}'")
    low, high = -3.0, -3.0 + L
    with pytest.raises(ValueError, match=rf"out\.xyz: 1 particle\(s\) lie outside the non-periodic box \(first: line 7, "
                                         rf"y = -3\.5\); .* here y in \[{low:.6g}, {high:.6g}\] \(the box as the file places it\)"):
        read_xyz(path)
    path.write_text(path.read_text().replace("Origin='10.0 -3.0 0.5'", 'Origin="1 2"'))
    with pytest.raises(ValueError, match=r"line 2: Origin must hold 3 finite numbers \(the box corner x y z\), got '1 2'"):
        read_xyz(path)


# --- 4. any length unit ----------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e-20, 3.4e-10, 1.0, 1e6, 1e20])
def test_q6_is_the_same_in_any_length_unit(tmp_path: Path, scale: float) -> None:
    """Perfect fcc gives the published q6 = 0.57452 whether its spacing is 1e-20 or 1e20 length units
    (freud's single precision under- and overflowed: 'NeighborQuery requires r_max to be positive',
    NaN features, ZeroDivisionError in the density), read from a file or built in Python."""
    fcc = lattice("fcc", 3, nn_distance=scale)
    np.testing.assert_allclose(steinhardt(fcc, 6), 0.57452, atol=1e-4)
    assert math.isfinite(fcc.density) and fcc.density == pytest.approx(math.sqrt(2) / scale**3, rel=1e-6)
    back = read_configuration(write_configuration(fcc, tmp_path / "fcc.csv"))
    np.testing.assert_allclose(steinhardt(back, 6), steinhardt(lattice("fcc", 3), 6), atol=1e-6)


def test_voronoi_neighbours_do_not_depend_on_the_length_unit() -> None:
    """freud's Voronoi (voro++) drops faces below an absolute size: thermal slivers came and went with the
    unit (mean Voronoi q6 of a warm fcc 0.4552 at unit neighbour distance, 0.4513 at 2, NaN at 1e-20)."""
    reference = lattice("fcc", 3, lindemann=0.02, seed=1)
    counts = np.asarray(neighbor_list(reference, "voronoi").neighbor_counts)
    for scale in (0.5, 2.0, 1e-20, 1e20):
        scaled = ParticleSystem(reference.positions * scale, freud.box.Box.cube(float(reference.box.Lx) * scale))
        np.testing.assert_array_equal(np.asarray(neighbor_list(scaled, "voronoi").neighbor_counts), counts)
        np.testing.assert_allclose(steinhardt(scaled, 6, neighbors="voronoi"), steinhardt(reference, 6, neighbors="voronoi"),
                                   atol=1e-6)
        np.testing.assert_allclose(minkowski(scaled, 6), minkowski(reference, 6), atol=1e-6)


def test_lengths_beyond_single_precision_are_refused() -> None:
    with pytest.raises(ValueError, match=r"box lengths must lie between 1e-30 and 1e\+30 length units \(freud keeps "
                                         r"boxes in single precision\)"):
        ParticleSystem(np.zeros((1, 3)), freud.box.Box.cube(1e-35))
    with pytest.raises(ValueError, match=r"box lengths must lie between 1e-30 and 1e\+30"):
        ParticleSystem(np.zeros((1, 3)), freud.box.Box.cube(1e32))


# --- 6. text variants --------------------------------------------------------------------------

def test_csv_variants_read_the_same_particles(tmp_path: Path) -> None:
    """Comments among the rows, semicolons, tabs or spaces between columns, 'key = value' header
    lines and Windows line ends all give the same configuration (comments and separators were
    'N fields but the header has M' or 'missing column(s) x, y, z')."""
    fcc = lattice("fcc", 2, lindemann=0.05, seed=7)
    L = float(fcc.box.Lx)
    rows = [",".join(repr(float(v)) for v in row) for row in fcc.positions]
    reference = read_csv(_csv(tmp_path / "ref.csv", fcc))
    variants = {
        "comments.csv": f"# box: {L} {L} {L}\nx,y,z\n" + "\n".join(rows[:10]) + "\n# a comment\n\n"
                        + "\n".join(rows[10:]) + "\n",
        "semicolon.csv": f"# box: {L} {L} {L}\nx;y;z\n" + "\n".join(r.replace(",", ";") for r in rows) + "\n",
        "tabs.csv": f"# box: {L} {L} {L}\nx\ty\tz\n" + "\n".join(r.replace(",", "\t") for r in rows) + "\n",
        "spaces.csv": f"# box = {L} {L} {L}\n# periodic = T T T\nx y z\n" + "\n".join(r.replace(",", "  ") for r in rows),
        "crlf.csv": (f"# box: {L} {L} {L}\nx,y,z\n" + "\n".join(rows) + "\n").replace("\n", "\r\n"),
    }
    for name, text in variants.items():
        (tmp_path / name).write_bytes(text.encode())
        system = read_csv(tmp_path / name)
        np.testing.assert_array_equal(system.positions, reference.positions)


@pytest.mark.parametrize(("text", "message"), [
    ("# box: 5 5 5\nx,y,z,x\n0,0,0,1\n", r"line 2: column\(s\) x appear more than once"),
    ("# box: 5 5 5\nx,y,z,label\n0,0,0,fcc\n1,1,1,\n", r"line 4: empty label \(1 of 2 rows\); give every particle a label"),
    ("# box: 5 5 5\nx,y,z\n,0,0\n", "line 3: coordinates must be numbers, got x = an empty field"),
    ("# box: 5 5 5\n0,0,0\n1,1,1\n", r"missing column\(s\) x, y, z.*the first line after the '#' lines must name the columns"),
    ("# box: 5 5 0 0.5 0.1 0\nx,y\n0,0\n", r"box must be .*'Lx Ly 0 xy 0 0' \(tilted 2D\)"),
])
def test_bad_csv_variants_get_clear_messages(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_csv(path)


def test_an_empty_label_column_means_no_labels_and_a_binary_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("# box: 5 5 5\nx,y,z,label\n0,0,0,\n1,1,1,\n")
    assert read_csv(path).labels is None
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x00\x01\x02 not text")
    with pytest.raises(ValueError, match=r"binary\.csv: not a text file \(it holds NUL bytes\)"):
        read_csv(path)


def test_a_tilted_2d_box_survives_csv(tmp_path: Path) -> None:
    """A sheared 2D box was written as 'Lx Ly' and read back orthorhombic (the tilt silently lost)."""
    box = freud.box.Box(Lx=4.0, Ly=3.0, xy=0.5, is2D=True)
    system = ParticleSystem(np.array([[0.1, 0.2], [1.5, -1.0], [-1.0, 0.7]]), box)
    path = write_configuration(system, tmp_path / "sheared.csv")
    assert path.read_text().startswith("# box: 4.0 3.0 0.0 0.5 0.0 0.0\n")
    back = read_csv(path)
    assert back.box.is2D and back.box.xy == 0.5
    np.testing.assert_allclose(back.positions, system.positions, atol=1e-12)


@pytest.mark.parametrize(("text", "message"), [
    ('2\nLattice="5 0 0 0 5 0 0 0 5"\nA 0 0\nA 1 1\n',
     r"line 3: expected 'species x y z', got 'A 0 0' \(XYZ files are 3D: .* write a 2D configuration as CSV"),
    ('2\nLattice="5 0 0 0 5 0 0 0 5"\n0 0 0\n1 1 1\n', r"line 3: .*three numbers and no species"),
    ('3\nLattice="5 0 0 0 5 0 0 0 5"\nA 0 0 0\n\nA 1 1 1\nA 2 2 2\n',
     r"line 4: a blank line among the particle lines \(line 1 declares 3 particles, on lines 3 to 5\)"),
])
def test_bad_xyz_variants_get_clear_messages(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.xyz"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_xyz(path)


def test_single_quoted_extended_xyz_values(tmp_path: Path) -> None:
    """Lattice='...' (single quotes) was 'no box'."""
    path = tmp_path / "single.xyz"
    path.write_text("2\nLattice='5 0 0 0 5 0 0 0 5' pbc='T T F'\nA 1 1 1\nB 2 2 2\n")
    system = read_xyz(path)
    assert system.periodic == (True, True, False)
    np.testing.assert_allclose(system.positions, [[-1.5, -1.5, -1.5], [-0.5, -0.5, -0.5]])
