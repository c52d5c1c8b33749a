"""``matloop softness predict|train`` (issue 15): shipped models on the Kob–Andersen test data,
per-particle CSV, and bad input as one error line."""

from __future__ import annotations

import json
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
    assert list(table.columns) == ["particle", "species", "x", "y", "z", "predicted_propensity", "outside_training",
                                   "propensity", "rearranging"]
    assert not table.outside_training.any() and "warning" not in text
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
    (["softness", "train", "t.npz", "--out", "m.json", "--threshold", "-1"], "--threshold must be a length² > 0, got -1"),
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


def _damaged(tmp_path: Path, change) -> str:
    from engine.analysis.softness.shipped import SHIPPED_SOFTNESS

    record = json.loads(SHIPPED_SOFTNESS.read_text())
    change(record)
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(record))
    return str(path)


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.__setitem__("descriptors", "x"), "damaged model file (descriptors must be a record"),
    (lambda r: r.pop("coef"), "damaged model file: missing coef"),
    (lambda r: r["descriptors"].pop("mu"), "descriptors lack 'mu'"),
    (lambda r: r.__setitem__("kind", "banana"), "kind must be 'softness' or 'propensity', got 'banana'"),
    (lambda r: r["scale"].__setitem__(0, 0), "must be finite numbers and every scale > 0"),
    (lambda r: r["coef"].__setitem__(3, None), "must be finite numbers and every scale > 0"),
    (lambda r: r.__setitem__("dim", 4), "dim must be 2 or 3"),
    (lambda r: r["descriptors"].__setitem__("log_transform", "no"), "log_transform true or false"),
])
def test_a_damaged_model_file_is_refused_with_what_is_wrong(tmp_path: Path, capsys, change, message: str) -> None:
    model = _damaged(tmp_path, change)
    assert main(["softness", "predict", str(GLASS / "ka3d_T0.44_config401.npz"), "--box", BOX, "--model", model]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_bad_values_are_refused_before_any_work(tmp_path: Path, capsys) -> None:
    """Density, output folder and C are checked before structure functions are computed."""
    iso = str(GLASS / "ka3d_T0.44_config401.npz")
    cases = [(["softness", "predict", iso, "--density", "0"], "number density must be a finite number > 0, got 0"),
             (["softness", "predict", iso, "--density", "-1"], "number density must be a finite number > 0, got -1"),
             (["softness", "train", iso, "--box", BOX, "--out", str(tmp_path)], "it is a directory; give a file name"),
             (["softness", "train", iso, "--box", BOX, "--C", "0", "--out", str(tmp_path / "m.json")],
              "--C must be > 0, got 0")]
    for args, message in cases:
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_files_that_are_not_numbers_or_particles_at_one_place_are_refused(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(1)
    positions = rng.uniform(0, 10, (120, 3))
    types = (rng.random(120) < 0.2).astype(int)
    np.savez(tmp_path / "pickled.npz", types=np.array([object()] * 120), initial_positions=positions,
             propensity=np.ones(120))
    np.savez(tmp_path / "complex.npz", types=types, initial_positions=positions + 1j, propensity=np.ones(120))
    twice = positions.copy()
    twice[-1] = twice[0]
    np.savez(tmp_path / "twice.npz", types=types, initial_positions=twice, propensity=rng.random(120))
    for name, message in [("pickled.npz", "field 'types' holds Python objects (pickled)"),
                          ("complex.npz", "initial_positions must hold real numbers, got complex128"),
                          ("twice.npz", "particles 0 and 119 sit on the same position")]:
        assert main(["softness", "predict", str(tmp_path / name), "--box", "10"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_configurations_unlike_the_training_data_are_flagged(tmp_path: Path, capsys) -> None:
    """The Kob-Andersen test configuration expanded by 5 % in length (density -14 %): every A particle's
    descriptors lie far outside the training data, and the output says so."""
    with np.load(GLASS / "ka3d_T0.44_config402.npz") as data:
        np.savez(tmp_path / "expanded.npz", types=data["types"], initial_positions=data["initial_positions"] * 1.05,
                 propensity=data["propensity"])
    out = tmp_path / "s.csv"
    assert main(["softness", "predict", str(tmp_path / "expanded.npz"), "--box", str(15.05658 * 1.05),
                 "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "warning: 100 % of the A particles have structure functions far from the model's training data" in text
    table = pd.read_csv(out)
    assert table.loc[table.species == "A", "outside_training"].all()
    assert not table.loc[table.species == "B", "outside_training"].any()


def test_a_plain_configuration_npz_is_predicted_without_propensity(tmp_path: Path, capsys) -> None:
    """Softness needs only the configuration: types and initial_positions (the help says positions or
    propensity are optional); it was refused for lacking positions or propensity."""
    from engine.analysis.softness.isoconfig import read_isoconfigurational

    with np.load(GLASS / "ka3d_T0.44_config401.npz") as full:
        np.savez(tmp_path / "ka_plain.npz", types=full["types"], initial_positions=full["initial_positions"])
    plain = read_isoconfigurational(tmp_path / "ka_plain.npz", box_length=float(BOX))
    known = read_isoconfigurational(GLASS / "ka3d_T0.44_config401.npz", box_length=float(BOX))
    assert plain.propensity is None and known.propensity is not None
    np.testing.assert_array_equal(plain.system.positions, known.system.positions)
    np.testing.assert_array_equal(plain.system.species, known.system.species)
    rng = np.random.default_rng(3)  # a small configuration keeps the command fast
    positions = rng.uniform(0, 10.0, (400, 3))
    np.savez(tmp_path / "small.npz", types=(rng.uniform(size=400) < 0.2).astype(int), initial_positions=positions)
    out = tmp_path / "s.csv"
    assert main(["softness", "predict", str(tmp_path / "small.npz"), "--box", "10", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "small.npz: 400 particles, 3D box 10 × 10 × 10" in text and "Pearson" not in text
    table = pd.read_csv(out)
    assert list(table.columns) == ["particle", "species", "x", "y", "z", "softness", "outside_training"]
    assert table.loc[table.species == "A", "softness"].notna().all()


@pytest.mark.parametrize(("fields", "message"), [
    (dict(types=np.zeros(0, int), initial_positions=np.zeros((0, 3)), propensity=np.zeros(0)),
     "bad.npz: the file holds no particles (initial_positions has shape (0, 3)); it needs at least one particle"),
    (dict(types=np.zeros(9, int), initial_positions=np.ones((10, 3))),
     "bad.npz: types must hold 10 integers (one per particle) in 0 … 1 (A, B); got shape (9,)"),
    (dict(types=np.zeros(10, int), initial_positions=np.ones((10, 1))),
     "bad.npz: initial_positions must have shape (N, 2) or (N, 3), got (10, 1)"),
    (dict(types=-np.ones(10, int), initial_positions=np.ones((10, 3))),
     "bad.npz: types must hold 10 integers (one per particle) in 0 … 1 (A, B); got shape (10,), values [-1]"),
    (dict(types=np.zeros(10, int), initial_positions=np.full((10, 3), 1e300)),
     "bad.npz: initial positions must lie in [0, L) = [0, 15.0566); they span 1e+300"),
    (dict(types=np.zeros(10, int), positions_at_start=np.ones((10, 3))),
     "bad.npz: needs fields types (N,) and initial_positions (N, d), optionally positions (R, N, d) or propensity "
     "(N,); it has types, positions_at_start"),
])
def test_each_bad_configuration_npz_gets_its_own_message(tmp_path: Path, monkeypatch, capsys, fields: dict,
                                                         message: str) -> None:
    np.savez(tmp_path / "bad.npz", **fields)
    monkeypatch.chdir(tmp_path)
    assert main(["softness", "predict", "bad.npz", "--box", BOX]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("matloop: error: ") and message in err[0], err


@pytest.mark.parametrize(("args", "message", "absent"), [
    (["plain.npy"], "plain.npy: a .npy file is not read here; glass files are .npz (isoconfigurational ensemble or "
                    "trajectory) or one configuration with species as .xyz, .csv, .gsd", "give the format"),
    (["plain.npy", "--box", "15"], "plain.npy: a .npy file is not read here", "--box"),
    (["blob", "--box", "15"], "blob: a file without a suffix is not read here", "--box"),
    (["small.npz", "--density", "1.2", "--box", "15"], "give --box or --density, not both", "no box"),
    (["small.npz", "--box", "15", "--frames", "0"], "--frames must be an integer >= 1, got 0", "max_frames"),
    (["small.npz", "--box", "15", "--half-window", "0"], "--half-window must be an integer >= 1, got 0",
     "half_window"),
])
def test_messages_name_what_softness_reads_and_its_own_options(tmp_path: Path, monkeypatch, capsys, args: list[str],
                                                               message: str, absent: str) -> None:
    np.save(tmp_path / "plain.npy", np.ones((10, 3)))
    (tmp_path / "blob").write_bytes(b"\x00\x01\x02")
    np.savez(tmp_path / "small.npz", types=np.zeros(10, int), initial_positions=np.ones((10, 3)))
    monkeypatch.chdir(tmp_path)
    assert main(["softness", "predict", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and absent not in err[0], err


def test_train_help_shows_a_plain_percent_sign(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["softness", "train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "top 10 % propensity" in text and "%%" not in text
