"""``matloop order``: generate a configuration with true labels, classify it, read the results back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from engine.analysis.ordering.configurations import read_configuration
from engine.cli import main


def test_generate_then_classify_with_the_shipped_mlp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, out = tmp_path / "bcc.csv", tmp_path / "result.csv"
    assert main(["order", "generate", "lattice", "--structure", "bcc", "--cells", "6", "--lindemann", "0.05",
                 "--seed", "9", "--out", str(config)]) == 0
    assert main(["order", "classify", str(config), "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "432 particles" in printed and "wrote" in printed
    table = pd.read_csv(out)
    assert list(table.columns) == ["particle", "x", "y", "z", "true_label", "label", "confidence", "q4", "q6"]
    assert len(table) == 432 and (table.true_label == "bcc").all()
    accuracy = float(np.mean(table.label == "bcc"))
    assert accuracy >= 0.95 and f"agreement with the file's labels: {100 * accuracy:.1f} %" in printed
    # the file's positions are the configuration's, to the digits written
    np.testing.assert_allclose(table[["x", "y", "z"]].to_numpy(), read_configuration(config).positions, atol=1e-12)
    bcc_line = next(line for line in printed.splitlines() if line.startswith("bcc "))
    assert f"{100 * accuracy:.1f}%" in bcc_line


def test_unsupervised_classification_of_an_xyz_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, out = tmp_path / "mix.xyz", tmp_path / "r.csv"
    assert main(["order", "generate", "fcc-hcp", "--cells", "4", "--out", str(config)]) == 0
    assert main(["order", "classify", str(config), "--method", "dbscan", "--neighbours", "12", "--csv", str(out)]) == 0
    table = pd.read_csv(out)
    assert {"embedding_1", "embedding_2"} <= set(table.columns)
    truth = read_configuration(tmp_path / "mix.xyz")  # XYZ keeps the structure as species
    assert adjusted_rand_score(truth.species, table.label) >= 0.9
    assert "cluster 1" in capsys.readouterr().out


def test_a_hoomd_gsd_file_is_classified(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gsd.hoomd

    from engine.analysis.ordering import lattice

    bcc = lattice("bcc", 6, lindemann=0.05, seed=3)
    frame = gsd.hoomd.Frame()
    frame.configuration.box = [bcc.box.Lx, bcc.box.Ly, bcc.box.Lz, 0, 0, 0]
    frame.particles.N = len(bcc.positions)
    frame.particles.position = bcc.box.wrap(bcc.positions).astype(np.float32)  # HOOMD: centred on the origin
    frame.particles.types = ["A"]
    with gsd.hoomd.open(str(tmp_path / "bcc.gsd"), "w") as trajectory:
        trajectory.append(frame)
    out = tmp_path / "r.csv"
    assert main(["order", "classify", str(tmp_path / "bcc.gsd"), "--csv", str(out)]) == 0
    assert "432 particles" in capsys.readouterr().out
    assert float(np.mean(pd.read_csv(out).label == "bcc")) >= 0.95


def test_methods_are_listed_with_their_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["order", "methods"]) == 0
    out = capsys.readouterr().out
    for name in ("mlp", "q6-threshold", "gmm", "dbscan", "autoencoder", "diffusion-map"):
        assert f"\n{name} " in "\n" + out
    assert "--classes" in out


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATLOOP_")}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=180)


@pytest.mark.parametrize(("args", "message"), [
    (["order", "classify", "missing.xyz"], "missing.xyz: no such file"),
    (["order", "classify", "bad.xyz"], "line 1: expected the particle count (an integer), got 'hello'"),
    (["order", "classify", "nan.csv"], "1 particle(s) have NaN or infinite coordinates"),
    (["order", "classify", "few.csv"], "at least 15 particles; the system has 3"),
    (["order", "classify", "few.csv", "--method", "gmm"], "asked for 12 neighbours per particle but the system has 3"),
    (["order", "classify", "few.csv", "--method", "mlp", "--neighbours", "8"], "--neighbours does not apply to the mlp"),
    (["order", "classify", "few.csv", "--method", "ptm"], "unknown method 'ptm'; allowed: mlp, q6-threshold"),
    (["order", "classify", "few.csv", "--neighbours", "many"], "expected a neighbour count, 'voronoi' or 'sann'"),
    (["order", "classify", "few.csv", "--csv", "nodir/out.csv"], "directory nodir does not exist"),
    (["order", "classify", "few.csv", "--csv", "."], "--csv writes a CSV table; give a file name ending in .csv"),
    (["order", "classify", "few.csv", "--csv", "few.csv"], "--csv few.csv is the input configuration"),  # not overwritten
    (["order", "classify", "few.csv", "--method", "gmm", "--seed", "-1"], "--seed must be an integer in [0, 4294967295]"),
    (["order", "classify", "nobox.csv"], "no box; add a header line '# box: Lx Ly Lz' (or 'Lx Ly' for 2D)"),
    (["order", "generate", "gas", "--out", "x.csv"], "unknown configuration kind 'gas'"),
    (["order", "generate", "liquid", "--cells", "3", "--out", "x.csv"], "--cells does not apply to a liquid"),
    (["order", "generate", "lattice", "--lindemann", "-1", "--out", "x.csv"], "--lindemann must lie in [0, 0.5]"),
    (["order", "generate", "slab", "--slab-fraction", "2", "--out", "x.csv"], "--slab-fraction must lie in (0, 1)"),
    (["order", "classify", "few.csv", "--method", "gmm", "--neighbours", "2", "--classes", "0"],
     "--classes must be an integer between 1 and N = 3"),
    (["order", "generate", "lattice", "--out", "x.pdb"], "unknown configuration format 'pdb'"),
    # an empty --model used to fall back to the shipped model without a word
    (["order", "classify", "few.csv", "--model", ""], "--model needs a file path, got ''; leave it out to use the shipped model"),
    (["order", "classify", "few.csv", "--method", "q6-threshold", "--model", " "], "--model needs a file path"),
])
def test_bad_input_is_one_error_line_without_traceback(tmp_path: Path, args: list[str], message: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.xyz").write_text("hello\n\nA 0 0 0\n")
    (tmp_path / "nan.csv").write_text("# box: 5 5 5\nx,y,z\n0,0,0\nnan,1,1\n")
    (tmp_path / "few.csv").write_text("# box: 5 5 5\nx,y,z\n0,0,0\n1,1,1\n2,0,1\n")
    (tmp_path / "nobox.csv").write_text("x,y,z\n0,0,0\n1,1,1\n")
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors exit through the parser
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matloop: error: ") and message in lines[0], captured.err
    assert "pass box=" not in lines[0]
    assert (tmp_path / "few.csv").read_text().startswith("# box: 5 5 5")


def test_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.xyz").write_text("3\nLattice=\"5 0 0 0 5 0 0 0 5\"\nA 0 0 0\nB 1 x 1\nC 2 2 2\n")
    result = _run("order", "classify", "bad.xyz", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "matloop: error: bad.xyz, line 4: coordinates x y z must be numbers, got '1 x 1'"]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_one_class_file_reports_the_largest_cluster_not_a_zero_ari(tmp_path: Path, capsys) -> None:
    config = tmp_path / "fcc.csv"
    assert main(["order", "generate", "lattice", "--cells", "6", "--out", str(config)]) == 0
    assert main(["order", "classify", str(config), "--method", "dbscan"]) == 0
    out = capsys.readouterr().out
    assert "the file's labels are one class (fcc):" in out and "adjusted Rand index against" not in out


def test_the_csv_q_columns_use_the_methods_neighbours(tmp_path: Path) -> None:
    """q4, q6 in the per-particle CSV follow --neighbours: a 2D hexagonal crystal with 6 neighbours
    has q6 = 0.74083 (the published 2D value, 6-fold bonds), not the 12-neighbour mixture of two
    shells; a system smaller than 13 particles still gets its columns (it failed after classifying)."""
    config, out = tmp_path / "hex.csv", tmp_path / "r.csv"
    assert main(["order", "generate", "lattice", "--structure", "hexagonal", "--cells", "6", "--lindemann", "0",
                 "--out", str(config)]) == 0
    assert main(["order", "classify", str(config), "--method", "gmm", "--neighbours", "6", "--csv", str(out)]) == 0
    np.testing.assert_allclose(pd.read_csv(out)["q6"], 0.74083, atol=1e-4)
    small = tmp_path / "small.csv"
    small.write_text("# box: 10 10 10\nx,y,z\n" + "\n".join(f"{k},{(3 * k) % 7},{(5 * k) % 9}" for k in range(10)) + "\n")
    assert main(["order", "classify", str(small), "--method", "gmm", "--neighbours", "3", "--csv", str(out)]) == 0
    assert len(pd.read_csv(out)["q6"].dropna()) == 10


def test_neighbours_are_honoured_by_the_bond_order_descriptors(tmp_path: Path, capsys) -> None:
    """--neighbours N sets the neighbours of the bond-order set too (it was silently ignored): a
    perfect bcc crystal is one environment over its 14-neighbour shell (8 + 6), but the MLP's
    default set includes q_l over 12 nearest neighbours, 4 of the 6 equidistant second-shell ones
    picked by rounding, which splits it."""
    config = tmp_path / "bcc.csv"
    assert main(["order", "generate", "lattice", "--structure", "bcc", "--cells", "4", "--lindemann", "0",
                 "--out", str(config)]) == 0
    capsys.readouterr()
    assert main(["order", "classify", str(config), "--method", "gmm", "--descriptors", "bond-order"]) == 0
    default = capsys.readouterr().out
    assert "the 14 bond-order features of the MLP (12 and 14 neighbours" in default and "cluster 2" in default
    assert main(["order", "classify", str(config), "--method", "gmm", "--descriptors", "bond-order",
                 "--neighbours", "14"]) == 0
    shell = capsys.readouterr().out
    assert "with 14 nearest neighbours" in shell and "cluster 2" not in shell
    assert any(line.split()[:4] == ["cluster", "1", "128", "100.0%"] for line in shell.splitlines() if line.strip())
