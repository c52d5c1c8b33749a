"""``matloop campaign``: new (checked before any work), run, status, report, export; pre-training shown."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from engine.cli import main
from engine.store import Store

SMALL = ["--space", "checkerboard", "--size", "4", "--strategy", "random", "--objective", "stiffness",
         "--fidelity", "fast", "--budget", "6", "--batch-size", "3", "--seed", "2"]


def test_a_campaign_from_new_to_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path), "--executor", "local:1"]
    assert main([*store, "campaign", "new", "c", *SMALL]) == 0
    assert "campaign c: random over checkerboard designs" in capsys.readouterr().out
    assert main([*store, "campaign", "run", "c"]) == 0
    status = capsys.readouterr().out
    assert "state        finished" in status and "spent        6" in status and "pretrain" not in status
    # and the best designs, the stiffest first
    table = status.split("the 5 best designs ('matloop campaign report c --top N' for more")[1].splitlines()[1:]
    assert table[0].split()[:2] == ["rank", "candidate"] and [row.split()[0] for row in table[1:]] == list("12345")
    best = max(label.metrics["stiffness"] for label in Store(tmp_path).labels())
    assert float(table[1].split()[-3]) == pytest.approx(best, rel=1e-3)
    assert main([*store, "campaign", "report", "c", "--top", "2", "--plot", str(tmp_path / "best.png")]) == 0
    assert (tmp_path / "best.png").stat().st_size > 1000
    assert main([*store, "campaign", "export", "c", "--top", "2", "--out", str(tmp_path / "best.json")]) == 0
    exported = json.loads((tmp_path / "best.json").read_text())  # .json: one JSON array
    assert f"\nwrote {tmp_path / 'best.json'}: the 2 best designs as json" in capsys.readouterr().out
    labels = {label.design_hash: label for label in Store(tmp_path).labels()}
    stiffness = sorted((label.metrics["stiffness"] for label in labels.values()), reverse=True)
    assert len(stiffness) == 6 and [e["values"][0] for e in exported] == stiffness[:2]
    assert [labels[e["design_hash"]].metrics["stiffness"] for e in exported] == stiffness[:2]
    # every exported file names the solver whose labels it holds: the key the store filed them under
    (label_key,) = {(label.solver, label.solver_version, label.fidelity, label.config_hash) for label in labels.values()}
    origin = {"campaign": "c", "objective": "maximise stiffness",
              "solver": dict(zip(("name", "version", "fidelity", "config_hash"), label_key))}
    assert all(e["provenance"] == origin for e in exported)
    # the format follows the file's suffix, or is asked for
    assert main([*store, "campaign", "export", "c", "--top", "2", "--out", str(tmp_path / "best.jsonl")]) == 0
    assert [json.loads(line) for line in (tmp_path / "best.jsonl").read_text().splitlines()] == exported
    assert main([*store, "campaign", "export", "c", "--top", "2", "--out", str(tmp_path / "best.csv")]) == 0
    with (tmp_path / "best.csv").open() as table:
        rows = list(csv.DictReader(table))
    assert list(rows[0])[0] == "rank" and [row["design"] for row in rows] == [e["design_hash"][:12] for e in exported]
    assert [row["solver"] for row in rows] == [f"{label_key[0]} {label_key[1]} (fast, settings {label_key[3][:12]})"] * 2
    assert main([*store, "campaign", "export", "c", "--top", "2", "--format", "stl", "--out",
                 str(tmp_path / "best.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "best.zip") as zipped:
        assert sorted(zipped.namelist())[-1] == "provenance.json" and \
            sum(name.endswith(".stl") for name in zipped.namelist()) == 4  # soft and stiff bodies of two plates
        assert json.loads(zipped.read("provenance.json")) == origin
    capsys.readouterr()
    assert main([*store, "campaign", "export", "c", "--out", str(tmp_path / "best.zip")]) == 2
    assert "give --format (json, jsonl, csv, stl, 3mf): the suffix .zip" in capsys.readouterr().err
    assert main([*store, "campaign", "export", "c", "--format", "stl", "--out", str(tmp_path / "best.stl")]) == 2
    assert "--format stl writes a zip of STL files (each design's bodies): give --out a .zip path" in \
        capsys.readouterr().err
    assert not (tmp_path / "best.stl").exists()
    # to standard output: the file's text alone, what was written said on standard error
    assert main([*store, "campaign", "export", "c", "--top", "2", "--format", "jsonl", "--out", "-"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line) for line in out.splitlines()] == exported
    assert err.startswith("wrote standard output: the 2 best designs as jsonl")
    for fmt in ([], ["--format", "stl"]):
        assert main([*store, "campaign", "export", "c", *fmt, "--out", "-"]) == 2
        assert "--out - writes to standard output: give --format json, jsonl or csv" in capsys.readouterr().err
    assert not (Path.cwd() / "-").exists()
    # its configuration, written out, makes the same campaign again
    assert main([*store, "campaign", "status", "c", "--config", str(tmp_path / "c.json")]) == 0
    assert main([*store, "campaign", "new", "again", "--config", str(tmp_path / "c.json")]) == 0
    campaigns = {c["name"]: c["config"] for c in Store(tmp_path).campaigns()}
    assert campaigns["again"] == campaigns["c"]


def test_pretraining_is_configured_and_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path)]
    surrogate = ["--strategy", "genetic", "--objective", "strength", "--fidelity", "strength", "--pretrain", "8"]
    assert main([*store, "campaign", "new", "bad", *SMALL, "--pretrain", "8"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("matloop: error: pretrain labels designs at the fast fracture fidelity") and \
        error.count("\n") == 1
    assert main([*store, "campaign", "new", "p", *SMALL, *surrogate]) == 0
    assert "pre-trained on 8 fast labels" in capsys.readouterr().out
    assert main([*store, "campaign", "status", "p"]) == 0
    assert "pretrain     0/8 fast labels" in capsys.readouterr().out
    assert [c["name"] for c in Store(tmp_path).campaigns()] == ["p"]  # the bad one was never recorded


def test_strategy_settings_are_key_value_pairs_and_one_call_is_singular(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path)]
    one = [*SMALL[:-6], "--budget", "1", "--batch-size", "1"]
    assert main([*store, "campaign", "new", "bad", *one, "--setting", "noequals"]) == 2
    assert capsys.readouterr().err == "matloop: error: --setting 'noequals' is not of the form KEY=VALUE\n"
    assert main([*store, "campaign", "new", "one", *one]) == 0
    assert "budget 1 solver call in batches of 1;" in capsys.readouterr().out


def test_a_missing_setting_is_named_by_its_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path)]
    assert main([*store, "campaign", "new", "c", "--space", "checkerboard", "--strategy", "genetic"]) == 2
    assert capsys.readouterr().err == ("matloop: error: a campaign needs --objective (or --target), --budget, "
                                       "--batch-size (or the keys objective, budget, batch_size in a --config FILE)\n")
    (tmp_path / "c.json").write_text(json.dumps({"space": "checkerboard", "strategy": "random", "budget": 4}))
    assert main([*store, "campaign", "new", "c", "--config", str(tmp_path / "c.json"), "--batch-size", "2"]) == 2
    assert "needs --objective (or --target) (or the key objective in a --config FILE)" in capsys.readouterr().err
    assert Store(tmp_path).campaigns() == []


def test_phases_in_a_configuration_are_checked_when_the_campaign_is_made(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Phases given by their settings label; a palette without the stiff phase is refused by ``new``, not by ``run``."""
    config = {"space": "checkerboard", "space_settings": {"rows": 4, "columns": 4}, "strategy": "random",
              "objective": {"kind": "metric", "metrics": ["stiffness"]}, "budget": 2, "batch_size": 2,
              "evaluator": {"kind": "fracture", "fidelity": "fast", "options": {"materials": {
                  "soft": {"E": 50, "nu": 0.3, "Gc": 1.0, "compressive_strength": None},
                  "stiff": {"E": 500, "nu": 0.3, "Gc": 0.1}}}}}
    store = ["--store", str(tmp_path), "--executor", "local:1"]
    (tmp_path / "ok.json").write_text(json.dumps(config))
    assert main([*store, "campaign", "new", "ok", "--config", str(tmp_path / "ok.json")]) == 0
    assert main([*store, "campaign", "run", "ok"]) == 0
    assert len(Store(tmp_path).labels()) == 2
    del config["evaluator"]["options"]["materials"]["stiff"]
    (tmp_path / "soft.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main([*store, "campaign", "new", "soft", "--config", str(tmp_path / "soft.json")]) == 2
    assert "unknown block type(s) ['stiff']; materials are defined for ['soft']" in capsys.readouterr().err
    # --phase adds the left-out default phase, from its default settings
    assert main([*store, "campaign", "new", "soft", "--config", str(tmp_path / "soft.json"), "--phase", "stiff:E=900"]) == 0
    from fem.materials import DEFAULT_PHASE_SETTINGS

    phases = Store(tmp_path).campaign("soft")["config"]["evaluator"]["options"]["materials"]
    assert phases["stiff"] == {**DEFAULT_PHASE_SETTINGS["stiff"], "E": 900.0} and phases["soft"]["E"] == 50
    # a phase for a block type the designs do not have (a misspelt name) would only change the labels' key
    assert main([*store, "campaign", "new", "typo", "--config", str(tmp_path / "ok.json"),
                 "--phase", "stif:E=2000,nu=0.3,Gc=0.1"]) == 2
    assert "phase 'stif' is no block type of the designs (theirs: soft, stiff)" in capsys.readouterr().err
    assert [c["name"] for c in Store(tmp_path).campaigns()] == ["ok", "soft"]


def test_the_solver_set_up_flags_of_matloop_label_configure_a_campaign(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """``campaign new`` takes the set-up flags of ``matloop label`` (2D model, ℓ, mesh, split, grips,
    phases) into its labels' set-up, and refuses a mesh that does not resolve ℓ in one line."""
    from engine.campaigns.campaign import Campaign
    from fem.materials import DEFAULT_PHASE_SETTINGS

    store = ["--store", str(tmp_path)]
    flags = ["--plane", "strain", "--ell", "0.015625", "--split", "voldev", "--grips", "clamped", "--phase", "soft:E=50"]
    assert main([*store, "campaign", "new", "c", *SMALL, *flags]) == 0
    soft = {**DEFAULT_PHASE_SETTINGS["soft"], "E": 50.0}
    assert Campaign.open(Store(tmp_path), "c").config.evaluator == {
        "kind": "fracture", "fidelity": "fast", "options": {
            "plane": "strain", "ell": 0.015625, "split": "voldev", "grips": "clamped",
            "materials": {**DEFAULT_PHASE_SETTINGS, "soft": soft}}}
    capsys.readouterr()
    assert main([*store, "campaign", "new", "coarse", *SMALL, "--element-size", "0.05"]) == 2
    assert capsys.readouterr().err == ("matloop: error: element_size 0.05 mm does not resolve the phase-field length "
                                       "ell = 0.03125 mm: at most ell/2 = 0.015625 mm is allowed\n")
    assert [c["name"] for c in Store(tmp_path).campaigns()] == ["c"]


def test_set_up_flags_change_what_a_configuration_file_gave(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Options win over --config one by one: --phase changes the file's phases (the others stay as the
    file gave them), a mesh flag replaces the file's other mesh setting; set-up flags for the wrong
    kind of design are refused with what they apply to."""
    from engine.campaigns.campaign import Campaign

    soft = {"E": 50, "nu": 0.3, "failure_strain": 0.3}
    config = {"space": "checkerboard", "space_settings": {"rows": 4, "columns": 4}, "strategy": "random",
              "objective": {"kind": "metric", "metrics": ["stiffness"]}, "budget": 2, "batch_size": 2,
              "evaluator": {"kind": "fracture", "fidelity": "fast", "options": {
                  "element_size": 0.015625, "materials": {"soft": soft, "stiff": {"E": 1000, "nu": 0.33, "Gc": 0.05}}}}}
    (tmp_path / "c.json").write_text(json.dumps(config))
    store = ["--store", str(tmp_path)]
    assert main([*store, "campaign", "new", "c", "--config", str(tmp_path / "c.json"), "--phase", "stiff:E=2000",
                 "--elements-per-block", "16"]) == 0
    assert Campaign.open(Store(tmp_path), "c").config.evaluator["options"] == {
        "elements_per_block": 16, "materials": {"soft": soft, "stiff": {"E": 2000, "nu": 0.33, "Gc": 0.05}}}
    capsys.readouterr()
    spinodoid = ["--space", "spinodoid", "--strategy", "random", "--target", *["0.3", "0.1", "0.1", "0.3", "0.1", "0.3"],
                 *["0.1"] * 3, "--budget", "2", "--batch-size", "2"]
    assert main([*store, "campaign", "new", "s", *spinodoid, "--mode", "II", "--ell", "0.05"]) == 2
    assert capsys.readouterr().err == ("matloop: error: --mode, --ell set the fracture labels of checkerboard and "
                                       "hierarchical designs, not of spinodoids (their labeller takes --resolution)\n")
    assert main([*store, "campaign", "new", "g", *SMALL, "--resolution", "16"]) == 2
    assert capsys.readouterr().err == ("matloop: error: --resolution sets the homogenisation of spinodoids, not the "
                                       "labels of checkerboard designs\n")
    assert [c["name"] for c in Store(tmp_path).campaigns()] == ["c"]


def test_a_group_linked_by_matloop_label_is_named_for_what_it_is(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """``matloop label --campaign NAME`` links designs under a name; the campaign commands list it as a
    group and say why it cannot be opened as a campaign (they said its settings were unknown)."""
    store = ["--store", str(tmp_path)]
    assert main([*store, "label", "--random", "2", "--size", "4", "--fidelity", "fast", "--campaign", "gc"]) == 0
    capsys.readouterr()
    assert main([*store, "campaign", "status"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == [
        "gc", "group", "-", "checkerboard", "2", "-", "(designs", "linked", "by", "matloop", "label", "--campaign)"]
    for action in ("status", "report", "run"):
        assert main([*store, "campaign", action, "gc"]) == 2
        assert capsys.readouterr().err.startswith("matloop: error: 'gc' is a group of 2 designs that 'matloop label "
                                                  "--campaign gc' linked, not a design campaign")


def test_a_campaign_without_values_exports_nothing_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path), "--executor", "local:1"]
    assert main([*store, "campaign", "new", "e", *SMALL]) == 0
    capsys.readouterr()
    for suffix in ("json", "jsonl", "csv"):
        assert main([*store, "campaign", "export", "e", "--out", str(tmp_path / f"e.{suffix}")]) == 2
        assert capsys.readouterr().err == ("matloop: error: campaign 'e' has no design with a value of its objective yet "
                                           "(0 of 0 proposed designs labelled): nothing to export\n")
        assert not (tmp_path / f"e.{suffix}").exists()


def test_a_report_of_failed_labels_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Status said "labelled 2, failed 2" while the report said "no labelled designs yet", and no command said why."""
    from engine.campaigns.campaign import Campaign
    from engine.evaluators.protocol import Evaluation

    config = {"space": "checkerboard", "strategy": "random", "objective": {"kind": "metric", "metrics": ["stiffness"]},
              "budget": 2, "batch_size": 2, "evaluator": {"kind": "fracture", "fidelity": "fast"}}
    campaign = Campaign.create(Store(tmp_path), "broken", config)
    first, second = campaign.ask()
    campaign.tell({first.id: Evaluation("failed", "the solve diverged"), second.id: Evaluation("failed", "no crack")})
    capsys.readouterr()
    assert main(["--store", str(tmp_path), "campaign", "report", "broken"]) == 0
    assert "no design labelled ok yet: 2 labels failed (no crack; the solve diverged)" in capsys.readouterr().out
