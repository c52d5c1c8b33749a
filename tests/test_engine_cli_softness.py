"""``matloop softness predict|train`` (issue 15): shipped models on the Kob–Andersen test data,
per-particle CSV, and bad input as one error line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.cli.main import main

GLASS = Path(__file__).parent / "data" / "glass"
BOX = "15.05658"


def test_predict_with_the_shipped_model_writes_one_row_per_particle(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.csv"
    assert main(["softness", "predict", str(GLASS / "ka3d_T0.44_config402.npz"), "--box", BOX,
                 "--model", "propensity", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "propensity of 3277 A particles" in text and "Pearson correlation with the file's propensity (A): 0.7" in text
    table = pd.read_csv(out)
    assert list(table.columns) == ["particle", "species", "x", "y", "z", "predicted_propensity", "propensity",
                                   "rearranging"]
    assert len(table) == 4096 and table.loc[table.species == "B", "predicted_propensity"].isna().all()
    a = table.species == "A"
    assert np.corrcoef(table.loc[a, "predicted_propensity"], table.loc[a, "propensity"])[0, 1] > 0.7


def test_train_then_predict(tmp_path: Path, capsys) -> None:
    model = tmp_path / "m.json"
    files = [str(GLASS / f"ka3d_T0.44_config{k}.npz") for k in (1, 2)]
    assert main(["softness", "train", *files, "--box", BOX, "--out", str(model)]) == 0
    assert main(["softness", "predict", str(GLASS / "ka3d_T0.44_config403.npz"), "--box", BOX,
                 "--model", str(model)]) == 0
    text = capsys.readouterr().out
    assert "trained softness of species A on 2 configurations" in text and "soft (S > 0):" in text


@pytest.mark.parametrize(("args", "message"), [
    (["softness", "predict", str(GLASS / "ka3d_T0.44_config401.npz")], "an .npz file has no box; give --box L"),
    (["softness", "predict", str(GLASS / "ka3d_T0.44_config401.npz"), "--box", "10"],
     "initial positions must lie in [0, L) = [0, 10)"),
    (["softness", "predict", str(GLASS / "ka3d_T0.44_config401.npz"), "--box", BOX, "--model", "nope.json"],
     "--model nope.json: no such file"),
    (["softness", "predict", "two_d.csv"], "this model was trained on 3D configurations; the system is 2D"),
    (["softness", "predict", "nospecies.csv"], "the configuration has no species"),
    (["softness", "train", "two_d.csv", "--out", "m.json"], "training files must be isoconfigurational .npz"),
])
def test_bad_input_is_one_error_line(tmp_path: Path, monkeypatch, capsys, args: list[str], message: str) -> None:
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{'A' if k % 5 else 'B'},{x:.4f},{y:.4f}" for k, (x, y) in enumerate(rng.uniform(-5, 5, (80, 2))))
    (tmp_path / "two_d.csv").write_text("# box: 12 12\nspecies,x,y\n" + rows + "\n")
    rows3 = "\n".join(f"{x:.4f},{y:.4f},{z:.4f}" for x, y, z in rng.uniform(-5, 5, (80, 3)))
    (tmp_path / "nospecies.csv").write_text("# box: 12 12 12\nx,y,z\n" + rows3 + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("matloop: error: ") and message in err[0], err


def _trajectory(path: Path, seed: int, **options) -> str:
    from engine.analysis.softness.synthetic import vacancy_hopping
    from engine.analysis.softness.trajectory import write_trajectory

    return str(write_trajectory(vacancy_hopping(cells=(16, 9), seed=seed, **options)[0], path))


def test_train_on_a_2d_trajectory_then_predict_on_another(tmp_path: Path, capsys) -> None:
    model, out = tmp_path / "vac.json", tmp_path / "s.csv"
    train = _trajectory(tmp_path / "a.npz", 1, frames=300, hops=120)
    assert main(["softness", "train", train, "--threshold", "0.2", "--stable-threshold", "0.1", "--stable-window", "8",
                 "--frames", "15", "--hold-out", "--out", str(model)]) == 0
    text = capsys.readouterr().out
    assert "trained softness of species A on 12 configurations" in text and "p_hop labels" in text
    assert "held out (3 configurations): balanced accuracy 0." in text
    other = _trajectory(tmp_path / "b.npz", 11, frames=300, hops=120)
    assert main(["softness", "predict", other, "--model", str(model), "--frames", "6", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "280 particles, 2D box 16 × 15.59, 6 of 300 frames (5…294)" in text
    assert "model: vac: softness (SVM), species A, 2D, a.npz (12 configurations, p_hop labels)" in text
    assert "rearranging (p_hop > 0.2):" in text and "% of them with S > 0" in text
    table = pd.read_csv(out)
    assert len(table) == 6 * 280 and {"frame", "time", "p_hop", "rearranging", "softness"} <= set(table.columns)


@pytest.mark.parametrize(("args", "message"), [
    (["softness", "predict", "t.npz"], "this model was trained on 3D configurations; the system is 2D"),
    (["softness", "predict", "t.npz", "--box", "10"], "t.npz: the file's box is 16 × 15.5885; the given box length 10"),
    (["softness", "predict", "bare.npz"], "bare.npz: an .npz file has no box; give --box L"),
    (["softness", "train", "t.npz", "--out", "m.json", "--threshold", "-1"], "the p_hop threshold must be a length"),
    (["softness", "train", "short.npz", "--out", "m.json"], "short.npz: the trajectory has 20 frames; p_hop windows of "
                                                             "5 frames and a stable window of 10 frames need at least 31"),
    (["softness", "train", "t.npz", "--out", "m.json", "--kind", "propensity"],
     "a propensity (ridge) model needs configurations with propensity"),
    (["softness", "train", "t.npz", "--out", "m.json", "--hold-out", "--frames", "2"],
     "--hold-out needs three or more configurations"),
])
def test_bad_trajectory_input_is_one_error_line(tmp_path: Path, monkeypatch, capsys, args: list[str],
                                                message: str) -> None:
    _trajectory(tmp_path / "t.npz", 0, frames=60, hops=20)
    _trajectory(tmp_path / "short.npz", 0, frames=20, hops=2, margin=5)
    np.savez(tmp_path / "bare.npz", types=np.zeros(3, int), positions=np.zeros((5, 3, 3)))
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("matloop: error: ") and message in err[0], err
