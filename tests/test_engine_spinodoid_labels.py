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
    assert "watertight True" in capsys.readouterr().out


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
