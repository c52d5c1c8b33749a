"""`matloop label` and the fracture labelling glue: store keys, files, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from designs.registry import read_designs
from engine.cli import main
from engine.evaluators.fracture import fracture_key
from engine.store import Store


def test_random_designs_are_labelled_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--store", str(tmp_path), "--executor", "local:2", "label", "--random", "4", "--fidelity", "fast"]
    assert main(args) == 0
    assert main([*args, "--campaign", "first"]) == 0
    out = capsys.readouterr().out
    assert "4 labelled now (0 failed), 0 already" in out
    assert "0 labelled now (0 failed), 4 already" in out
    store = Store(tmp_path)
    key = fracture_key("fast", {"mode": "I", "plane": "stress"})
    labels = store.labels(key)
    assert len(labels) == 4
    # Any mixture of 100 MPa and 1000 MPa blocks lies between the two moduli (a crack only
    # softens it further, and by far less than the soft/stiff contrast).
    assert all(100 < label.metrics["stiffness"] < 1000 for label in labels)
    assert len(store.campaign_designs(store.campaigns()[0]["id"])) == 4


def test_design_files_in_both_formats(tmp_path: Path) -> None:
    a = Checkerboard.random(4, seed=1)
    b = Checkerboard.random(4, seed=2)
    listing = tmp_path / "designs.json"
    listing.write_text(json.dumps([{"space": "checkerboard", "genome": a.genome()}, {"space": "checkerboard", "genome": b.genome()}]))
    lines = tmp_path / "designs.jsonl"
    lines.write_text(a.to_json() + "\n" + b.to_json() + "\n")
    assert read_designs(listing) == read_designs(lines, default_space="checkerboard") == [a, b]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"space": "checkerboard", "genome": {"grid": [[0, 1], [1]]}}]', "design 1: grid is ragged"),
        ('[{"space": "checkerboard", "genome": {"grid": [[0, 7], [1, 0]]}}]', "unknown block type 7"),
        ('[{"space": "voronoi", "genome": {}}]', "unknown design space 'voronoi'"),
        ("{not json", "is not JSON"),
        ("", "holds no designs"),
    ],
)
def test_bad_design_files_name_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    file = tmp_path / "bad.json"
    file.write_text(content)
    assert main(["--store", str(tmp_path), "label", str(file), "--fidelity", "fast"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_one_design_drawn_thrice_is_one_row_and_hierarchical_draws_refuse_checkerboard_options(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--soft-fraction 0 draws the all-stiff plate every time: "1 designs" and three identical rows; a
    hierarchical draw ignored --soft-fraction and --symmetric (its plates had soft blocks)."""
    args = ["--store", str(tmp_path), "--executor", "local:1", "label", "--random", "3", "--fidelity", "fast"]
    assert main([*args, "--soft-fraction", "0", "--csv", str(tmp_path / "rows.csv")]) == 0
    out = capsys.readouterr().out
    assert "1 design: 1 labelled now" in out
    assert len((tmp_path / "rows.csv").read_text().strip().splitlines()) == 2  # header and one row
    for flag in (["--soft-fraction", "0"], ["--symmetric"]):
        assert main([*args, "--space", "hierarchical", *flag]) == 2
        assert ("--soft-fraction and --symmetric apply to random checkerboards; random hierarchical designs draw "
                "their building blocks at random") in capsys.readouterr().err


def test_a_long_label_is_announced_with_its_estimate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """--size 512 --fidelity full printed nothing for minutes (the estimate: about an hour a label)."""
    import engine.cli.label as label_command

    args = ["--store", str(tmp_path), "--executor", "local:1", "label", "--random", "1", "--fidelity", "fast"]
    assert main(args) == 0
    assert "note:" not in capsys.readouterr().err
    monkeypatch.setattr(label_command, "LONG_LABEL_SECONDS", 0.0)
    assert main(args) == 0
    assert ("note: one label may take long: a 65 × 64 element plate (8,580 unknowns) needs about"
            in capsys.readouterr().err)


def test_label_needs_a_source_and_valid_setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", str(tmp_path), "label"]) == 2
    assert main(["--store", str(tmp_path), "label", "--random", "1", "--elements-per-block", "0"]) == 2
    err = capsys.readouterr().err
    assert "give either a designs FILE or --random N" in err and "elements_per_block" in err


@pytest.mark.parametrize(("flags", "message"), [
    (["--element-size", "0.02"], "element_size 0.02 mm does not resolve the phase-field length ell = 0.03125 mm: "
                                 "at most ell/2 = 0.015625 mm is allowed"),
    (["--elements-per-block", "4"], "elements_per_block = 4 on a 8×8 grid gives elements of 0.03125 × 0.03125 mm, "
                                    "and at most ell/2 = 0.015625 mm is allowed in each direction"),
    (["--ell", "0.01", "--element-size", "0.015625"], "does not resolve the phase-field length ell = 0.01 mm"),
    (["--element-size", "0.01", "--elements-per-block", "8"], "not allowed with argument"),
    (["--split", "miehe"], "invalid choice: 'miehe'"),
    (["--grip-strip=-1"], "grip_strip must be a finite number >= 0 (in units of ell; 0 for none), got -1.0"),
    (["--ell", "0.0625", "--grip-strip", "5"], "makes damage-free strips 0.3125 mm wide along the grips; at most 0.25 mm"),
    (["--ell", "0.1"], "ell 0.1 mm is too long for the 1 mm plate: at most 0.0625 mm (1/16) is allowed"),
    (["--phase", "soft=E:50"], "--phase 'soft=E:50' is not of the form NAME:KEY=VALUE,..."),
    (["--phase", "soft:E"], "--phase soft: 'E' is not of the form KEY=VALUE"),
    (["--phase", "soft:nu=0.5"], "phase 'soft': Poisson's ratio nu must lie in (-1, 0.5), got 0.5"),
    (["--phase", "soft:Young=50"], "phase 'soft': unknown setting(s) ['Young']; allowed: E (MPa), nu (1)"),
    (["--phase", "stiff:E=big"], "phase 'stiff': E must be a number (MPa), got 'big'"),
    (["--phase", "Soft:E=50"], "--phase Soft: is not one of the phases (soft, stiff); a new phase needs E, nu and Gc"),
    (["--phase", "soft:E=50,E=60"], "--phase 'soft:E=50,E=60' gives ['E'] more than once"),
    (["--phase", "stif:E=2000,nu=0.3,Gc=0.1"], "phase 'stif' is no block type of the designs (theirs: soft, stiff): "
                                              "give phases for the designs' block types"),
    (["--phase", "soft:E=1e30"], "the phases' Young's moduli {'soft': 1e+30, 'stiff': 1000.0} (MPa) differ by more "
                                 "than 1e+06×"),
    (["--phase", "soft:E=1e308"], "phase 'soft': E = 1e+308 MPa is out of floating-point range"),
])
def test_bad_setups_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    """Before any labelling: one line ``matloop: error: ...``, exit status 2, nothing stored."""
    args = ["--store", str(tmp_path), "label", "--random", "2", "--fidelity", "fast", *flags]
    try:
        status = main(args)
    except SystemExit as exc:  # argparse mistakes (exclusive flags, choices) exit from the parser
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("matloop: error: ") and message in err[0], err
    assert Store(tmp_path).labels() == []


def test_a_new_phase_labels_the_designs_whose_palette_names_it(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A plate of a third block type, given the stiff phase's settings under its own name, has the
    all-stiff plate's label; that phase is refused for designs of the default palette only."""
    from fem.materials import DEFAULT_PHASE_SETTINGS

    stiff = DEFAULT_PHASE_SETTINGS["stiff"]
    glass = "glass:" + ",".join(f"{k}={v}" for k, v in stiff.items())
    files = {}
    for name, palette in (("glass", ["soft", "glass"]), ("stiff", ["soft", "stiff"])):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps([{"space": "checkerboard",
                                            "genome": {"grid": [[1] * 4] * 4, "palette": palette}}]))
    (tmp_path / "store").mkdir()
    store = ["--store", str(tmp_path / "store")]
    for name in files:
        assert main([*store, "label", str(files[name]), "--fidelity", "fast", "--phase", glass,
                     "--csv", str(tmp_path / f"{name}.csv")]) == (0 if name == "glass" else 2)
    assert "phase 'glass' is no block type of the designs (theirs: soft, stiff)" in capsys.readouterr().err
    # a default phase changed for designs that do not have it is refused too; left at its default it is not
    assert main([*store, "label", str(files["glass"]), "--fidelity", "fast", "--phase", glass,
                 "--phase", "stiff:E=2000"]) == 2
    assert "phase 'stiff' is no block type of the designs (theirs: glass, soft)" in capsys.readouterr().err
    assert main([*store, "label", str(files["stiff"]), "--fidelity", "fast", "--csv", str(tmp_path / "stiff.csv")]) == 0
    values = {name: (tmp_path / f"{name}.csv").read_text().splitlines()[1].split(",")[2] for name in files}
    assert float(values["glass"]) == pytest.approx(float(values["stiff"]), rel=1e-12)


def test_label_job_reports_progress_stores_the_label_and_can_be_cancelled(tmp_path: Path) -> None:
    import threading

    from engine.evaluators.fracture import label_fracture_job
    from engine.runtime.jobs import run_job

    store = Store(tmp_path)
    design = Checkerboard.random(8, seed=4)
    params = {"space": "checkerboard", "genome": design.genome(), "fidelity": "strength",
              "options": {"ell": 1 / 16}}
    job = store.create_job("label-fracture", params)
    assert run_job(store, job, label_fracture_job, params) == "done"
    result = store.get_job(job).result
    assert result["status"] == "ok" and max(result["stress"]) == pytest.approx(result["metrics"]["strength"])
    key = fracture_key("strength", {"ell": 0.0625})
    assert store.get_label(design.content_hash(), key).metrics["strength"] == result["metrics"]["strength"]

    # a run long enough (seconds) to be cancelled mid-way on a fast machine
    other = Checkerboard.random(8, seed=5)
    params = {"space": "checkerboard", "genome": other.genome(), "fidelity": "full", "options": {}}
    key = fracture_key("full", {})
    job = store.create_job("label-fracture", params)
    thread = threading.Thread(target=run_job, args=(store, job, label_fracture_job, params))
    thread.start()
    deadline = time.time() + 60
    while store.get_job(job).progress < 0.05 and time.time() < deadline:
        time.sleep(0.02)
    store.request_cancel(job)
    thread.join(120)
    assert store.get_job(job).status == "cancelled"
    assert store.get_label(other.content_hash(), key) is None  # nothing half-done is stored


def test_a_full_label_job_reads_its_crack_path_from_the_whole_damage_grid(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The job keeps a thinned damage grid for the page (here every 4th node); how the crack ran is
    read from the whole grid, as a run of the same label reads it (mode II, ℓ = 1/16 mm), and the
    stored label carries the same reading."""
    from dataclasses import asdict

    from engine.evaluators import fracture as evaluator
    from engine.runtime.jobs import run_job
    from fem.fracture import crack_path_of, run

    monkeypatch.setattr(evaluator, "_MAX_FIELD", 9)
    store = Store(tmp_path)
    design = Checkerboard.random(8, seed=4)
    options = {"mode": "II", "ell": 1 / 16}
    params = {"space": "checkerboard", "genome": design.genome(), "fidelity": "full", "options": options}
    job = store.create_job("label-fracture", params)
    assert run_job(store, job, evaluator.label_fracture_job, params) == "done"
    result = store.get_job(job).result
    assert len(result["x"]) == 9  # 33 nodes a side, every 4th kept
    whole = run(design, "full", **options)
    expected = asdict(crack_path_of(whole.metrics, whole.damage, whole.x, whole.y))
    assert result["crack_path"] == expected and expected["level"] == 0.9
    label = store.get_label(design.content_hash(), evaluator.fracture_key("full", options))
    assert {name: label.metrics[name] for name in ("crack_tip_to_edge", "grip_band", "along_grip")} == {
        "crack_tip_to_edge": expected["tip_to_edge"], "grip_band": expected["grip_length"],
        "along_grip": expected["along_grip"]}


@pytest.mark.parametrize(("seed", "broke", "along_grip"), [(0, False, False), (5, True, True), (14, False, True)])
def test_a_full_labels_reason_says_why_its_numbers_need_care(seed: int, broke: bool, along_grip: bool) -> None:
    """An ok label says in its reason (shown by matloop label, the batch page and the library) that it
    did not break, that its crack ran along a grip, or both (4×4 mode-I plates of the failure-path
    benchmark's recipe at ℓ = 1/16 mm, a second each)."""
    from fem.fracture import label

    rng = np.random.default_rng(seed)
    plate = Checkerboard.random(4, soft_fraction=rng.uniform(0.2, 0.8), seed=rng)
    metrics = label(plate, "full", mode="I", ell=1 / 16)
    assert (metrics["status"], metrics["broke"], metrics["along_grip"]) == ("ok", broke, along_grip)
    caveats = ([] if broke else ["ended at the largest applied strain (strain 0.5) before it broke: its toughness is a "
                                 "lower bound"]) + ([f"a crack band runs {metrics['grip_band']:.3g} mm along the top grip "
                                                     "(more than 4ℓ): the plate failed partly at the grip"] if along_grip else [])
    assert metrics["reason"] == "; ".join(caveats) and (metrics["grip_band"] > 4 / 16) == along_grip


def test_labels_under_other_options_are_stored_apart(tmp_path: Path) -> None:
    """Plane-strain labels get their own key; they are stiffer (C_strain - C_stress is PSD)."""
    base = ["--store", str(tmp_path), "label", "--random", "2", "--seed", "7", "--fidelity", "fast",
            "--ell", "0.0625"]
    assert main(base) == 0
    assert main([*base, "--plane", "strain"]) == 0
    store = Store(tmp_path)
    stiffness = {
        plane: {l.design_hash: l.metrics["stiffness"] for l in store.labels(fracture_key("fast", {
            "mode": "I", "plane": plane, "ell": 0.0625}))}
        for plane in ("stress", "strain")
    }
    assert stiffness["stress"].keys() == stiffness["strain"].keys() and len(stiffness["stress"]) == 2
    for design_hash, plane_stress in stiffness["stress"].items():
        assert stiffness["strain"][design_hash] > plane_stress


def test_full_labels_say_how_the_plate_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A full label's table and CSV say whether the plate broke (its toughness is a lower bound when
    not), whether its crack ran from the tip to an edge and whether it failed partly along a grip; a
    label recorded before those were read shows "-". The labels are taken from the store (as a
    solver wrote them), so nothing is solved here."""
    plates = [Checkerboard.random(4, seed=s) for s in (1, 2, 3)]
    file = tmp_path / "plates.jsonl"
    file.write_text("".join(p.to_json() + "\n" for p in plates))
    store = Store(tmp_path)
    key = fracture_key("full", {"mode": "II"})
    failures = ({"broke": True, "crack_tip_to_edge": True, "grip_band": 0.0, "along_grip": False},
                {"broke": False, "crack_tip_to_edge": False, "grip_band": 0.17, "along_grip": True},
                {"broke": True})
    for plate, failure in zip(plates, failures):
        store.add_designs([plate])
        store.put_label(plate.content_hash(), key, {"stiffness": 50.0, "strength": 12.0, "toughness": 4.0, **failure},
                        status="ok", reason=None if failure["broke"] else "ended at max_displacement before the end criterion")
    out_csv = tmp_path / "out.csv"
    assert main(["--store", str(tmp_path), "label", str(file), "--fidelity", "full", "--mode", "II",
                 "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "0 labelled now (0 failed), 3 already" in out
    rows = out_csv.read_text().splitlines()
    assert rows[0] == "design,status,stiffness,strength,toughness,broke,crack_tip_to_edge,along_grip,grip_band," \
                      "wall_time,reason"
    assert [r.split(",")[5:8] for r in rows[1:]] == [["True", "True", "False"], ["False", "False", "True"],
                                                     ["True", "", ""]]
    table = out.splitlines()[-4:]
    header = table[0].split()
    assert header[:8] == ["design", "status", "stiffness", "strength", "toughness", "broke", "crack_tip_to_edge",
                          "along_grip"]
    ends = [table[0].index(name) + len(name) for name in ("broke", "crack_tip_to_edge", "along_grip")]
    for line, cells in zip(table[1:], (("True", "True", "False"), ("False", "False", "True"), ("True", "-", "-"))):
        assert [line[end - len(cell):end] for end, cell in zip(ends, cells)] == list(cells)  # right-aligned under the header
    assert main(["--store", str(tmp_path), "label", str(file), "--fidelity", "fast"]) == 0
    out = capsys.readouterr().out
    assert "broke" not in out and "along_grip" not in out  # a linear solve does not break anything


def test_phases_changed_on_the_command_line(tmp_path: Path) -> None:
    """``--phase`` changes what it names and keeps the rest: an all-soft plate between clamped grips
    is a linear elastic body, so its stiffness halves with the soft E; the stiff phase, not in the
    plate, leaves the label alone but gets its own key (a fast label's key holds E and ν only)."""
    base = ["--store", str(tmp_path), "label", "--random", "1", "--size", "4", "--soft-fraction", "1",
            "--fidelity", "fast", "--grips", "clamped"]
    runs = {"default": [], "soft E 50": ["--phase", "soft:E=50"], "stiff E": ["--phase", "stiff:E=2000"], "stiff Gc": ["--phase", "stiff:Gc=0.2"],
            "soft E 50 again": ["--phase", "soft:nu=0.33", "--phase", "soft : E = 50, failure_strain=0.4"]}
    for flags in runs.values():
        assert main([*base, *flags]) == 0
    labels = Store(tmp_path).labels()
    assert len(labels) == 3  # the stiff Gc run is the default's fast label, the last the second's
    stiffness = sorted(label.metrics["stiffness"] for label in labels)
    assert stiffness[0] == pytest.approx(0.5 * stiffness[1], rel=1e-9) and stiffness[1] == pytest.approx(stiffness[2])
