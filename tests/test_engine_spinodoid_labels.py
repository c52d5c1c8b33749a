"""`matloop spinodoid homogenize|export-stl`: stored labels, STL files, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.evaluators.spinodoid import homogenize_key
from engine.store import Store


def test_homogenize_stores_and_reuses_the_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--store", str(tmp_path), "spinodoid", "homogenize", "--rho", "0.6", "--resolution", "24"]
    assert main(args) == 0
    assert main([*args, "--json"]) == 0
    out = capsys.readouterr().out
    assert "(computed)" in out
    metrics = json.loads(out[out.index("{"):])
    store = Store(tmp_path)
    (label,) = store.labels(homogenize_key(24, "affine"))
    assert label.metrics["C"] == metrics["C"]
    C = np.asarray(metrics["C"])
    # Isotropic cones, ρ = 0.6: the published fit C11 ≈ 1.41 ρ^2.22 = 0.45 (realisations scatter ~10 %).
    assert np.mean(np.diag(C)[:3]) == pytest.approx(1.41 * 0.6**2.22, rel=0.3)


def test_export_stl_writes_a_binary_stl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cell.stl"
    assert main(["spinodoid", "export-stl", "--rho", "0.5", "--periodic", "--tiles", "2",
                 "--resolution", "24", "--out", str(out)]) == 0
    data = out.read_bytes()
    triangles = int(np.frombuffer(data[80:84], dtype="<u4")[0])
    assert len(data) == 84 + 50 * triangles
    assert "watertight, 1 body" in capsys.readouterr().out
    # a two-photon cell of 0.05 mm: written closed (it was refused as "not closed" for 1 mm and less)
    import trimesh

    assert main(["spinodoid", "export-stl", "--rho", "0.5", "--cell-mm", "0.05", "--resolution", "24",
                 "--out", str(out)]) == 0
    part = trimesh.load(out, file_type="stl")
    assert part.is_watertight and part.volume / 0.05**3 == pytest.approx(0.5, rel=0.01)
    # too many tiles: the allowed range, not a memory estimate
    assert main(["spinodoid", "export-stl", "--rho", "0.5", "--periodic", "--tiles", "7", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("tiles must be an integer in 1..6, got 7")


def test_export_stl_reports_bodies_and_warns_when_the_part_falls_apart(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import trimesh

    out = tmp_path / "plates.stl"
    # a published one-cone row (rho = 0.312, theta = (16.7, 0, 0)), seed 1: separate plates
    assert main(["spinodoid", "export-stl", "--rho", "0.312", "--theta", "16.7", "0", "0", "--seed", "1",
                 "--resolution", "48", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    shells = trimesh.load(out, file_type="stl").split(only_watertight=False)
    bodies = sum(b.volume > 0 for b in shells)
    assert bodies > 1 and f"{bodies} bodies" in captured.out
    assert f"matloop: warning: the part falls apart into {bodies} separate bodies" in captured.err
    # a connected part: one body, no warning
    assert main(["spinodoid", "export-stl", "--rho", "0.6", "--seed", "2", "--resolution", "40",
                 "--out", str(tmp_path / "one.stl")]) == 0
    captured = capsys.readouterr()
    assert "1 body" in captured.out and captured.err == ""


def test_export_stl_says_what_the_part_lacks_and_refuses_what_it_cannot_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A part that joins no pair of opposite faces carries no load (the homogenisation labels it failed,
    naming the axes): the export says so; floating islands are left out and counted; a cell edge whose
    float32 STL coordinates would merge or overflow, and a file name that is not .stl, are refused."""
    from designs.spinodal import Spinodoid
    from designs.stl import part_warnings, spinodoid_part

    out = tmp_path / "sparse.stl"
    assert main(["spinodoid", "export-stl", "--rho", "0.05", "--resolution", "24", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "matloop: warning: the part joins no pair of opposite faces: it carries no load along x, y or z" \
        in captured.err
    assert "; floating islands, " in captured.out and " of the box, left out)" in captured.out
    # the warning agrees with the mechanics' percolation along each axis (a one-open-cone row: plates)
    design = Spinodoid(rho=0.312, theta=(16.7, 0, 0), seed=1)
    mesh, report = spinodoid_part(design, 48, 10.0)
    labelled = Store(tmp_path).labels()  # nothing yet
    assert not labelled
    assert main(["--store", str(tmp_path), "spinodoid", "homogenize", "--rho", "0.312", "--theta", "16.7", "0", "0",
                 "--seed", "1", "--resolution", "48", "--json"]) in (0, 1)
    percolates = json.loads(capsys.readouterr().out)["percolates"]
    assert list(report.percolates) == percolates
    missing = [a for a, p in zip("xyz", percolates) if not p]
    assert any(f"no stiffness along {' and '.join(missing)}" in w for w in part_warnings(mesh, report)) == (
        0 < len(missing) < 3)
    for cell, why in (("1e-6", "from 0.01 to 1000, got 1e-06"), ("1e30", "from 0.01 to 1000, got 1e+30")):
        assert main(["spinodoid", "export-stl", "--rho", "0.5", "--resolution", "24", "--cell-mm", cell,
                     "--out", str(tmp_path / "c.stl")]) == 2
        assert why in capsys.readouterr().err
    assert main(["spinodoid", "export-stl", "--rho", "0.5", "--resolution", "24", "--out", str(tmp_path / "c.3mf")]) == 2
    assert "must end in .stl" in capsys.readouterr().err
    assert not (tmp_path / "c.stl").exists() and not (tmp_path / "c.3mf").exists()


def test_sparse_design_is_stored_as_failed_with_the_axes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", str(tmp_path), "spinodoid", "homogenize", "--rho", "0.1", "--resolution", "24"]) == 1
    out = capsys.readouterr().out
    assert ("matloop: homogenisation failed: does not percolate along x, y, z: no load path, "
            "zero stiffness along those axes") in out
    (label,) = Store(tmp_path).labels(homogenize_key(24, "affine"), status="failed")
    assert label.metrics["percolates"] == [False, False, False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["homogenize", "--rho", "1.5"], "rho (solid fraction) must lie in the open interval (0, 1)"),
        (["homogenize", "--rho", "0.5", "--theta", "0", "0", "0"], "cone"),
        (["homogenize", "--rho", "0.5", "--resolution", "4"], "resolution"),
        (["export-stl", "--rho", "0.5", "--tiles", "2", "--out", "x.stl"], "tiling needs a periodic spinodoid"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                     message: str) -> None:
    assert main(["--store", str(tmp_path), "spinodoid", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_a_degenerate_periodic_cell_is_warned_and_the_header_names_the_variant(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nearly closed cones on a periodic cell of one unit leave 3 lattice wave directions (the design's own
    lattice report): a laminate-like structure, said so; the isotropic periodic cell is not warned."""
    from designs.spinodal import Spinodoid

    assert Spinodoid(rho=0.3, theta=(0.01, 0.01, 0.01), periodic=True).lattice_report()["n_directions"] == 3
    main(["--store", str(tmp_path), "spinodoid", "homogenize", "--rho", "0.3", "--theta", "0.01", "0.01", "0.01",
          "--periodic", "--resolution", "20"])
    captured = capsys.readouterr()
    assert captured.err.startswith("matloop: warning: this periodic cell (1 unit) holds only 3 wave directions")
    # cones this narrow give the published variant a laminate too: it is not the remedy
    assert captured.err.rstrip().endswith("not a spinodoid; widen the cones"), captured.err
    assert "θ = (0.01, 0.01, 0.01)  periodic  20³ voxels" in captured.out
    assert main(["--store", str(tmp_path), "spinodoid", "homogenize", "--rho", "0.5", "--periodic",
                 "--resolution", "24"]) == 0
    assert capsys.readouterr().err == ""


def test_the_remedies_of_a_degenerate_periodic_cell_are_those_that_help() -> None:
    """Wide cones are not widened (β is raised), a larger cell is offered where one was given, and the
    published variant only where its waves vary across the cell (β sin θ ≥ 2π: 11.5° at β = 10π) and it holds
    two wavelengths."""
    from designs.spinodal import Spinodoid

    wide = Spinodoid(rho=0.5, beta=1.0, periodic=True).structure_warning()
    assert wide.endswith("not a spinodoid; raise beta"), wide
    cones = Spinodoid(rho=0.5, theta=(15, 15, 15), periodic=True, cell=1)
    assert cones.lattice_report()["n_directions"] == 15
    assert cones.structure_warning().endswith("widen the cones, give a larger cell (cell up to 8; this one is 1) or "
                                              "use the published (non-periodic) variant")
    assert Spinodoid(rho=0.5, theta=(15, 15, 15)).structure_warning() is None
    assert "published" not in Spinodoid(rho=0.5, theta=(5, 0, 0), periodic=True).structure_warning()


def test_a_published_cell_narrower_than_two_wavelengths_is_warned(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """β = π puts half a wavelength 2π/β across the unit cell: one smooth cut surface, not a spinodoid, said
    so (without the periodic advice); two wavelengths (β = 4π) and the published 10π are not warned."""
    from designs.spinodal import Spinodoid

    main(["--store", str(tmp_path), "spinodoid", "homogenize", "--rho", "0.5", "--beta", str(np.pi),
          "--resolution", "20"])
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("matloop: warning: the unit cell is only 0.5 wavelengths 2π/β wide (β = 3.142): the field "
                      "varies too slowly across it to form a spinodoid, which needs at least 2; raise beta (the "
                      "published 10π gives five)")
    for beta in (4 * np.pi, 10 * np.pi):
        assert Spinodoid(rho=0.5, beta=beta).structure_warning() is None
    assert Spinodoid(rho=0.5, beta=3.9 * np.pi).structure_warning().startswith("the unit cell is only 1.95 wavelengths")
    # just under two wavelengths is not rounded up to the two it needs
    assert Spinodoid(rho=0.5, beta=4 * np.pi - 1e-9).structure_warning().startswith("the unit cell is only 1.99 ")
