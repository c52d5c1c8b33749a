"""GSD frames written by the ``gsd`` package itself (HOOMD schema) read back as particle systems.

Known answers: the positions, box and types written; a perfect fcc crystal written in HOOMD's
centred, periodic box gives the published q6 = 0.57452 for every particle (so the box and its
periodicity were read right), also with a tilted box; a 2D hexagonal frame stays 2D.
"""

from __future__ import annotations

from pathlib import Path

import freud
import gsd.hoomd
import numpy as np
import pytest

from engine.analysis.ordering import lattice
from engine.analysis.ordering.read_gsd import read_gsd
from engine.analysis.ordering.steinhardt import steinhardt


def _write(path: Path, frames: list[tuple[np.ndarray, list[float], int, list[str], np.ndarray]]) -> None:
    with gsd.hoomd.open(str(path), "w") as trajectory:
        for step, (positions, box, dim, types, typeid) in enumerate(frames):
            frame = gsd.hoomd.Frame()
            frame.configuration.step = step
            frame.configuration.dimensions = dim
            frame.configuration.box = box
            frame.particles.N = len(positions)
            frame.particles.position = np.asarray(positions, dtype=np.float32)
            frame.particles.types = types
            frame.particles.typeid = np.asarray(typeid, dtype=np.uint32)
            trajectory.append(frame)


def _hoomd(system) -> tuple[np.ndarray, list[float]]:
    """Positions centred on the origin (HOOMD's convention) and the box as [Lx, Ly, Lz, xy, xz, yz]."""
    box = system.box
    wrapped = box.wrap(system.positions if system.positions.shape[1] == 3
                       else np.column_stack([system.positions, np.zeros(len(system.positions))]))
    return wrapped, [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]


def test_fcc_frame_reads_back_with_its_box_types_and_published_q6(tmp_path: Path) -> None:
    fcc = lattice("fcc", 4)
    positions, box = _hoomd(fcc)
    typeid = np.arange(len(positions)) % 2
    path = tmp_path / "fcc.gsd"
    _write(path, [(positions, box, 3, ["A", "B"], typeid), (positions + 0.01, box, 3, ["A", "B"], typeid)])
    system = read_gsd(path)
    assert system.positions.shape == (256, 3) and system.box.periodic.all()
    np.testing.assert_allclose(system.positions, positions, atol=1e-6)
    np.testing.assert_allclose([system.box.Lx, system.box.Ly, system.box.Lz], box[:3])
    assert list(system.species[:4]) == ["A", "B", "A", "B"]
    np.testing.assert_allclose(steinhardt(system, 6, neighbors=12), 0.57452, atol=1e-4)
    np.testing.assert_allclose(read_gsd(path, frame=-1).positions, positions + 0.01, atol=1e-6)


def test_tilted_and_two_dimensional_boxes(tmp_path: Path) -> None:
    fcc = lattice("fcc", 4)
    box = freud.box.Box(fcc.box.Lx, fcc.box.Ly, fcc.box.Lz, 0.25, 0.0, 0.0)  # a sheared periodic image
    fractions = fcc.box.make_fractional(fcc.positions)
    path = tmp_path / "tilted.gsd"
    _write(path, [(box.wrap(box.make_absolute(fractions)), [box.Lx, box.Ly, box.Lz, 0.25, 0.0, 0.0], 3, ["A"],
                   np.zeros(256, int))])
    system = read_gsd(path)
    assert system.box.xy == pytest.approx(0.25)
    # an affinely sheared fcc is no longer fcc: its q6 differs, the same for every particle (one environment)
    q6 = steinhardt(system, 6, neighbors=12)
    assert np.ptp(q6) < 1e-4

    hexagonal = lattice("hexagonal", 6)
    positions, box2d = _hoomd(hexagonal)
    path = tmp_path / "hex.gsd"
    _write(path, [(positions, box2d, 2, ["A"], np.zeros(len(positions), int))])
    system = read_gsd(path)
    assert system.positions.shape == (len(positions), 2) and system.box.is2D
    np.testing.assert_allclose(system.positions, positions[:, :2], atol=1e-6)


def test_bad_files_and_frames_are_refused_with_the_reason(tmp_path: Path) -> None:
    text = tmp_path / "notes.gsd"
    text.write_text("not a gsd file\n")
    with pytest.raises(ValueError, match=r"notes\.gsd: not a readable HOOMD GSD file"):
        read_gsd(text)
    with pytest.raises(ValueError, match=r"missing\.gsd: no such file"):
        read_gsd(tmp_path / "missing.gsd")
    fcc = lattice("fcc", 2)
    positions, box = _hoomd(fcc)
    path = tmp_path / "one.gsd"
    _write(path, [(positions, box, 3, ["A"], np.zeros(len(positions), int))])
    with pytest.raises(ValueError, match=r"frame must be an integer in -1\.\.0 \(the file holds 1 frame\), got 3"):
        read_gsd(path, frame=3)
    nan = positions.copy()
    nan[5, 1] = np.nan
    path = tmp_path / "nan.gsd"
    _write(path, [(nan, box, 3, ["A"], np.zeros(len(positions), int))])
    with pytest.raises(ValueError, match=r"nan\.gsd, frame 0: 1 particle\(s\) have NaN or infinite coordinates \(first: particle 5, x y z = \S+ nan "):
        read_gsd(path)
    ids = np.zeros(len(positions), int)
    ids[7] = 3  # a type id beyond the file's one type (it was an IndexError traceback)
    path = tmp_path / "badtype.gsd"
    _write(path, [(positions, box, 3, ["A"], ids)])
    with pytest.raises(ValueError, match=r"badtype\.gsd: particle type ids must lie in 0\.\.0 .* got 0\.\.3"):
        read_gsd(path)
    same = positions.copy()
    same[9] = same[4]  # two particles on one spot (CSV and XYZ refused it; GSD classified 13 'other')
    path = tmp_path / "dup.gsd"
    _write(path, [(same, box, 3, ["A"], np.zeros(len(positions), int))])
    with pytest.raises(ValueError, match=r"dup\.gsd, frame 0: 1 particle\(s\) sit exactly on another one \(first: particles 4 and 9"):
        read_gsd(path)
    path = tmp_path / "zero.gsd"
    _write(path, [(positions, [0.0, box[1], box[2], 0, 0, 0], 3, ["A"], np.zeros(len(positions), int))])
    with pytest.raises(ValueError, match=r"zero\.gsd, frame 0: the 3D box lengths must be finite numbers > 0"):
        read_gsd(path)
    flat = positions.copy()
    path = tmp_path / "offplane.gsd"
    _write(path, [(flat, [box[0], box[1], 0, 0, 0, 0], 2, ["A"], np.zeros(len(positions), int))])
    with pytest.raises(ValueError, match=r"offplane\.gsd, frame 0: a 2D frame with particles off the plane"):
        read_gsd(path)
    path = tmp_path / "empty.gsd"
    _write(path, [])
    with pytest.raises(ValueError, match=r"empty\.gsd: the file holds no frames"):
        read_gsd(path)
