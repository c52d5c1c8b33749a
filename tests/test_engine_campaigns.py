"""Campaigns: checked configurations, ask/tell in any order, budgets, kill and resume, Dask."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from engine.campaigns.campaign import Campaign
from engine.campaigns.objectives import Objective, stiffness_matrix
from engine.evaluators.protocol import Evaluation
from engine.runtime.executors import make_executor
from engine.search.protocol import pareto_fitness
from engine.store import Store, StoreError

FAST = {"space": "checkerboard", "strategy": "random", "objective": {"kind": "metric", "metrics": ["stiffness"]},
        "budget": 9, "batch_size": 4, "seed": 5, "evaluator": {"kind": "fracture", "fidelity": "fast"}}


def _history(campaign: Campaign) -> list[tuple[int, int, str, str, list[float]]]:
    return [(r.candidate.id, r.candidate.batch, r.candidate.design.content_hash(), r.evaluation.status,
             [float(v) for v in r.values]) for r in campaign.results()]


@pytest.mark.parametrize(
    ("change", "message"),
    [({"strategy": "annealing"}, "unknown strategy 'annealing'; allowed: random"),
     ({"budget": 0}, "budget must be an integer >= 1"),
     ({"batch_size": 10}, "batch_size 10 is larger than the budget 9"),
     ({"objective": {"kind": "metric", "metrics": ["E1"]}},
      "E1 is no metric of phasefield-at2; objectives: toughness, strength, stiffness, "),  # not its diagnostics
     ({"objective": {"kind": "pareto", "metrics": ["stiffness", "stiffness"]}},
      "a pareto objective needs different metrics, got ['stiffness', 'stiffness']"),
     ({"objective": "stiffness"}, "objective must be a JSON object of settings such as {\"kind\": \"metric\""),
     ({"space_settings": {"rows": 2, "columns": 2, "soft_fraction": 0.5}},
      "soft_fraction must be a range (low, high) within [0, 1], got 0.5"),
     ({"space_settings": {"rows": "abc"}}, "rows must be an integer in 2..64, got 'abc'"),
     ({"space_settings": [2, 2]}, "space_settings must be a JSON object of settings"),
     ({"strategy_settings": [1]}, "strategy_settings must be a JSON object of settings"),
     ({"evaluator": "fracture"}, "evaluator must be a JSON object of settings"),
     ({"evaluator": {"kind": "fracture", "options": [1]}},
      "the fracture evaluator's options must be a JSON object of plate settings"),
     ({"budget": float("nan")}, "budget must be an integer >= 1, got nan"),
     ({"space_settings": {"rows": 2, "columns": 2, "soft_fraction": [0.5, 0.5]}},  # C(4, 2) grids
      "this checkerboard space holds only 6 different designs, fewer than the budget of 9 solver calls"),
     ({"space": "hierarchical", "space_settings": {"rows": 1, "columns": 1}},  # iso, stiff-x, stiff-y
      "this hierarchical space holds only 3 different designs, fewer than the budget of 9 solver calls"),
     ({"strategy": "genetic", "strategy_settings": {"population": float("nan")}},
      "population must be an integer in 4..100000, got nan"),
     ({"objective": {"kind": "metric", "metrics": ["elements"]}}, "elements is not an objective"),
     ({"objective": {"kind": "metric", "metrics": ["toughness"]}},
      "toughness is not computed at the fast fidelity of phasefield-at2; objectives at this fidelity: stiffness, "
      "energy_release_rate_per_stress_squared, stress_intensity_per_stress"),
     ({"objective": {"kind": "pareto", "metrics": ["strength", "energy_release_rate_per_stress_squared"]},
       "evaluator": {"kind": "fracture", "fidelity": "full"}},
      "energy_release_rate_per_stress_squared is not computed at the full fidelity"),
     ({"space": "spinodoid", "evaluator": None, "objective": {"kind": "target_stiffness", "target": [1, 2, 0, 1, 0, 1,
                                                                                                 1, 1, 1]}},
      "not positive definite"),
     ({"objective": {"kind": "target_stiffness", "target": [1, 0, 0, 1, 0, 1, 1, 1, 1]}},
      "a target stiffness is a spinodoid objective"),
     # the Voigt bound: C11 <= rho C11(solid) = 0.9 × 1.346 (E_s = 1, ν = 0.3) for rho up to 0.9
     ({"space": "spinodoid", "evaluator": None, "objective": {"kind": "target_stiffness", "target": [5, 0, 0, 1, 0, 1,
                                                                                                 1, 1, 1]}},
      "target C11 = 5 E_s is out of reach: the solid itself has C11 = 1.34615 E_s, and a spinodoid (rho < 1) less "
      "(Voigt bound); give C11, C22 and C33 below 1.21154 E_s for this space (rho up to 0.9)"),
     ({"space": "spinodoid", "evaluator": None, "objective": {"kind": "target_stiffness",
                                                             "target": [1.2116, 0, 0, 1, 0, 1, 1, 1, 1]}},
      "target C11 = 1.2116 E_s is out of reach: a spinodoid of this space (rho up to 0.9) has C11 below rho × the "
      "solid's = 1.21154 E_s (Voigt bound)"),
     ({"space": "spinodoid", "evaluator": None, "space_settings": {"rho": [0.3, 0.5]},
       "objective": {"kind": "target_stiffness", "target": [0.5, 0, 0, 0.7, 0, 0.5, 0.2, 0.2, 0.2]}},
      "target C22 = 0.7 E_s is out of reach: .*rho up to 0.5.* = 0.673077 E_s"),
     ({"evaluator": {"kind": "homogenization"}}, "the homogenization evaluator labels spinodoid designs"),
     ({"space": "spinodoid", "objective": {"kind": "metric", "metrics": ["E1"]},
       "evaluator": {"kind": "homogenization", "resolution": 16}},
      "resolution 16 is too coarse for this spinodoid .*use at least 20 voxels per side"),
     ({"strategy_settings": {"population": 3}}, "unknown setting(s) ['population'] of the random strategy"),
     ({"space_settings": {"rows": 1}}, "rows must be an integer in 2..64"),
     ({"space": "spinodoid", "objective": {"kind": "metric", "metrics": ["E1"]}, "evaluator": None,
       "space_settings": {"rho": 0.4}}, "rho must be a range (low, high) within (0, 1), got 0.4"),
     ({"colour": "red"}, "unknown campaign setting(s) ['colour']"),
     ({"pretrain": -1}, "pretrain must be an integer >= 0"),
     ({"pretrain": 10**6}, "pretrain must be at most 20000 designs"),
     ({"pretrain": 10}, "pretrain labels designs at the fast fracture fidelity for an objective at the strength or "
                        "full fidelity; this campaign labels checkerboard designs at the fast fidelity"),
     ({"pretrain": 10, "objective": {"kind": "metric", "metrics": ["strength"]}, "evaluator": {"kind": "fracture",
                                                                                               "fidelity": "strength"}},
      "pretrain needs a surrogate strategy (genetic, self-learning); random has no surrogate"),
     ({"pretrain": 10, "strategy": "self-learning", "objective": {"kind": "metric", "metrics": ["strength"]},
       "evaluator": {"kind": "fracture", "fidelity": "strength"}},
      "the 'cnn-classifier' model classifies: use model 'cnn' or 'linear'")],
)
def test_bad_configurations_fail_before_any_work(tmp_path: Path, change: dict, message: str) -> None:
    store = Store(tmp_path)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        Campaign.create(store, "bad", {**FAST, **change})
    assert store.campaigns() == [] and store.status().designs == 0


def test_ask_and_tell_in_any_order_with_failures(tmp_path: Path) -> None:
    store = Store(tmp_path)
    campaign = Campaign.create(store, "manual", FAST)
    first = campaign.ask(3)
    assert [c.id for c in first] == [0, 1, 2] and {c.batch for c in first} == {0}
    evaluations = {c.id: campaign.evaluator(c.design) for c in first}
    campaign.tell({2: evaluations[2], 0: Evaluation("failed", "the solver gave up")})
    assert [c.id for c in campaign.pending()] == [1] and campaign._told == 0  # the batch is not complete
    campaign.tell({1: evaluations[1]})
    assert campaign.pending() == [] and campaign._told == 1
    statuses = {r.candidate.id: (r.evaluation.status, np.isnan(r.values).all()) for r in campaign.results()}
    assert statuses == {0: ("failed", True), 1: ("ok", False), 2: ("ok", False)}
    assert campaign.best(5)[0].values[0] == max(evaluations[i].metrics["stiffness"] for i in (1, 2))
    with pytest.raises(ValueError, match="not candidates of campaign 'manual': \\[7\\]"):
        campaign.tell({7: evaluations[1]})
    with pytest.raises(ValueError, match="ask for 1..6 candidates"):
        campaign.ask(7)
    # an ok label without a number for the objective is refused, and nothing of the call is stored
    later = campaign.ask(2)
    labels = store.labels()
    for bad in ({"stiffness": "abc"}, {"stiffness": float("nan")}, {}):
        with pytest.raises(ValueError, match=f"candidate {later[1].id}: an ok evaluation needs finite numbers for "
                                             "stiffness, got .*; nothing was recorded"):
            campaign.tell({later[0].id: evaluations[1], later[1].id: Evaluation("ok", None, bad)})
    assert len(store.labels()) == len(labels) and len(campaign.pending()) == 2


def test_run_spends_the_budget_in_batches_and_reopens_where_it_ended(tmp_path: Path) -> None:
    store = Store(tmp_path)
    campaign = Campaign.create(store, "loop", FAST)
    with ThreadPoolExecutor(2) as executor:
        assert campaign.run(executor) == "finished"
    history = _history(campaign)
    assert [h[1] for h in history] == [0, 0, 0, 0, 1, 1, 1, 1, 2]  # batches of 4 within a budget of 9
    assert campaign.status()["state"] == "finished" and store.status().labels_ok == 9
    again = Campaign.open(store, "loop")
    assert _history(again) == history and again.remaining == 0
    trace = again.best_so_far()
    assert trace[-1] == max(h[4][0] for h in history) and np.all(np.diff(trace) >= 0)


def test_a_changed_history_is_refused_not_resumed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    store = Store(tmp_path)
    campaign = Campaign.create(store, "tampered", FAST)
    campaign.ask(2)
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE campaign_candidates SET design_hash = (SELECT design_hash FROM campaign_candidates "
                    "WHERE seq = 1) WHERE seq = 0")
    reopened = Campaign.open(store, "tampered")  # shown as stored: opening replays nothing
    assert [c.design.content_hash() for c in reopened.pending()] == [campaign.pending()[1].design.content_hash()] * 2
    state = reopened.state
    for go_on in (lambda: reopened.ask(1), lambda: reopened.tell({}), lambda: reopened.run(ThreadPoolExecutor(1))):
        with pytest.raises(StoreError, match="replaying its strategy proposes other designs"):
            go_on()
    assert Campaign.open(store, "tampered").state == state  # refused before it was marked running
    from engine.cli import main

    assert main(["--store", str(tmp_path), "campaign", "resume", "tampered"]) == 2
    assert capsys.readouterr().err.endswith(
        "it cannot resume — start a new campaign ('matloop campaign status tampered --config FILE' writes its "
        "configuration, 'matloop campaign new NEW --config FILE' starts it again)\n")


def test_a_failing_solver_is_recorded_and_the_campaign_goes_on(tmp_path: Path) -> None:
    store = Store(tmp_path)
    hopeless = {"fidelity": "strength", "options": {"stagger_max_iter": 1, "max_nonconverged": 0}}
    config = {**FAST, "budget": 3, "batch_size": 3, "objective": {"kind": "metric", "metrics": ["strength"]},
              "space_settings": {"rows": 2, "columns": 2}, "evaluator": {"kind": "fracture", **hopeless}}
    campaign = Campaign.create(store, "failing", config)
    with ThreadPoolExecutor(2) as executor:
        assert campaign.run(executor) == "finished"
    status = campaign.status()
    assert (status["failed"], status["labelled"], status["best"]) == (3, 3, None)
    assert all("stagger did not converge" in r.evaluation.reason for r in campaign.results())


PRETRAINED = {"space": "checkerboard", "strategy": "genetic", "objective": {"kind": "metric", "metrics": ["strength"]},
              "budget": 12, "batch_size": 4, "seed": 3, "space_settings": {"rows": 4, "columns": 4},
              "evaluator": {"kind": "fracture", "fidelity": "strength"}, "pretrain": 30,
              "strategy_settings": {"min_train": 4, "population": 20, "generations": 4, "members": 2}}


def _drive(campaign: Campaign) -> list[str]:
    """Ask and tell the whole budget with a known-truth strength (soft cells near the crack): hashes asked."""
    asked = []
    while campaign.remaining:
        batch = campaign.ask()
        asked += [c.design.content_hash() for c in batch]
        campaign.tell({c.id: Evaluation("ok", None, {"strength": float(np.sum(c.design.as_array()[1:3, :2] == 0))})
                       for c in batch})
    return asked


def test_pretraining_labels_fast_designs_first_then_shapes_the_surrogate(tmp_path: Path) -> None:
    store = Store(tmp_path)
    campaign = Campaign.create(store, "pre", PRETRAINED)
    with pytest.raises(ValueError, match="pre-trains its surrogate on 30 fast labels first"):
        campaign.ask()
    assert campaign.status()["pretrain"] == {"designs": 30, "labelled": 0, "fidelity": "fast"}
    messages = []
    with ThreadPoolExecutor(2) as executor:
        assert campaign.label_pretraining(executor, progress=lambda f, m: messages.append(m))
    fast_key = campaign._parts.pretrain_evaluator.key()
    assert fast_key.fidelity == "fast" and len(store.labels(fast_key)) == 30 and campaign.spent == 0
    assert messages[-1] == "pre-training: 30/30 fast labels"
    asked = _drive(campaign)
    strategy = campaign._parts.strategy
    assert [h["kind"] for h in strategy.history] == ["pretrain", "random", "model", "model"]
    assert strategy.history[0]["rows"] == 30 and strategy._pretrained is not None
    again = Campaign.open(store, "pre")
    assert [r.candidate.design.content_hash() for r in again.results()] == asked
    # replayed with the stored fast labels (it proposes the stored designs, or raises), it predicts as it did
    assert again._strategy().predictions == strategy.predictions
    plain = _drive(Campaign.create(store, "plain", {**PRETRAINED, "pretrain": 0}))
    assert plain[:4] == asked[:4] and plain[4:] != asked[4:]  # the same random start, other proposals


def test_objectives_against_hand_values() -> None:
    from engine.evaluators.fracture import FractureEvaluator

    evaluator = FractureEvaluator("fast")
    ok = Evaluation("ok", None, {"stiffness": 300.0, "energy_release_rate_per_stress_squared": 0.002})
    assert Objective("metric", ("energy_release_rate_per_stress_squared",)).values(ok, evaluator) == [-0.002]
    weighted = Objective("weighted", ("stiffness", "energy_release_rate_per_stress_squared"), (1.0, 1000.0))
    assert weighted.values(ok, evaluator) == pytest.approx([300.0 - 2.0])
    target = Objective("target_stiffness", target=(0.5, 0.1, 0.1, 0.4, 0.1, 0.2, 0.1, 0.1, 0.1))
    C = stiffness_matrix((0.55, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1))
    np.testing.assert_allclose(target.relative_errors(C), [0.1, 0.0, 0.5])
    labelled = Evaluation("ok", None, {"C": C.tolist()})
    assert target.values(labelled, evaluator) == pytest.approx([-0.5])
    # the outputs it is composed of: log C11, C22, C33, and the value again from them
    np.testing.assert_allclose(target.outputs(labelled), np.log([0.55, 0.4, 0.1]))
    assert target.value_from_outputs(target.outputs(labelled)) == pytest.approx(-0.5)
    lower, upper = target.output_interval(np.array([0.1, 1.5]))
    np.testing.assert_allclose(np.exp(lower[0]), [0.45, 0.36, 0.18])
    np.testing.assert_allclose(np.exp(upper[1]), [1.25, 1.0, 0.5])
    assert np.isneginf(lower[1]).all()  # above 100 % error any smaller stiffness will do
    assert np.isnan(target.outputs(Evaluation("failed", "no"))).all()
    with pytest.raises(ValueError, match="a metric objective is not composed of outputs"):
        Objective("metric", ("stiffness",)).outputs(ok)


def test_pareto_fitness_ranks_fronts_like_brute_force() -> None:
    rng = np.random.default_rng(0)
    values = rng.random((60, 2))
    values[5] = np.nan
    fitness = pareto_fitness(values)
    assert fitness[5] == -np.inf
    ok = np.flatnonzero(np.isfinite(values).all(axis=1))
    dominated = [any((values[j] >= values[i]).all() and (values[j] > values[i]).any() for j in ok) for i in ok]
    np.testing.assert_array_equal(fitness[ok] >= 0, ~np.array(dominated))  # rank 0 = the front
    assert np.all((fitness[ok] >= 0) == (np.floor(fitness[ok]) == 0)) and fitness[ok].max() < 1


SCRIPT = """
import sys
from engine.campaigns.campaign import Campaign
from engine.runtime.executors import make_executor
from engine.store import Store
store = Store(sys.argv[1], create=False)
with make_executor(sys.argv[3]) as executor:
    print(Campaign.open(store, sys.argv[2]).run(executor))
"""

SLOW = {**FAST, "budget": 8, "batch_size": 4, "objective": {"kind": "metric", "metrics": ["strength"]},
        "evaluator": {"kind": "fracture", "fidelity": "strength"}}


def _run_in_process(store_dir: Path, name: str, executor: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(store_dir), name, executor],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_killed_mid_batch_the_campaign_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    (tmp_path / "whole").mkdir()
    whole = Store(tmp_path / "whole")
    Campaign.create(whole, "c", SLOW)
    assert _run_in_process(tmp_path / "whole", "c", "local:2").communicate(timeout=600)[0].strip() == "finished"

    (tmp_path / "killed").mkdir()
    store = Store(tmp_path / "killed")
    Campaign.create(store, "c", SLOW)
    process = _run_in_process(tmp_path / "killed", "c", "local:2")
    deadline = time.time() + 300
    while store.status().labels_ok < 5 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # mid second batch: its labels partly stored
    process.wait()
    assert Campaign.open(store, "c").state == "interrupted"
    labelled = store.status().labels_ok
    assert 5 <= labelled < 8, "the kill must land inside the second batch"
    stamps = {label.design_hash: label.created_at for label in store.labels()}
    assert _run_in_process(tmp_path / "killed", "c", "local:2").communicate(timeout=600)[0].strip() == "finished"
    assert {h: stamps[h] for h in stamps} == {label.design_hash: label.created_at for label in store.labels()
                                              if label.design_hash in stamps}  # nothing labelled twice
    assert store.status().labels_ok == 8
    assert _history(Campaign.open(store, "c")) == _history(Campaign.open(whole, "c"))


def test_a_running_campaign_is_not_run_twice_and_a_killed_run_reads_interrupted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second run of a campaign that a live process runs is refused before it replays or labels anything;
    once that process is killed the campaign reads "interrupted" (API, ``matloop campaign status``) and resumes
    here. A runner in another process namespace (another machine or container) cannot be judged and reads as
    running, but does not block: its process id means nothing here."""
    from engine.cli import main
    from support_runner import campaign_run_elsewhere

    store = Store(tmp_path)
    campaign = Campaign.create(store, "c", {**FAST, "budget": 4})
    with campaign_run_elsewhere(tmp_path, "c") as holder:
        assert campaign.state == "running" and campaign.status()["runner"] == holder.pid
        with ThreadPoolExecutor(1) as executor, pytest.raises(StoreError, match=f"is being run by process "
                                                                                f"{holder.pid} on this machine"):
            campaign.run(executor)
        assert store.status().labels_ok == 0 and campaign.state == "running" and campaign.spent == 0
        assert main(["--store", str(tmp_path), "campaign", "run", "c"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "stop that run first (Ctrl-C where it runs, or Stop on the Campaigns" in err
        assert main(["--store", str(tmp_path), "campaign", "status", "c"]) == 0
        assert f"state        running\nrunner       process {holder.pid}\n" in capsys.readouterr().out
    assert campaign.state == "interrupted" and campaign.status()["runner"] is None
    assert main(["--store", str(tmp_path), "campaign", "status"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == ["c", "interrupted"]
    with ThreadPoolExecutor(1) as executor:
        assert campaign.run(executor) == "finished"
    assert store.status().labels_ok == 4
    # a runner elsewhere: shown as running, not judged, not blocking
    import sqlite3

    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE campaigns SET state='running', runner_pid=?, runner_host='another-host'", (os.getpid() + 1,))
    assert campaign.state == "running"
    with ThreadPoolExecutor(1) as executor:
        assert campaign.run(executor) == "finished"
    # left running by a matloop whose store (before schema version 7) recorded no runner: it has exited
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE campaigns SET state='running', runner_pid=NULL, runner_host=NULL")
    assert campaign.state == "interrupted"


@pytest.mark.slow
def test_a_stopped_campaign_job_says_the_campaign_paused(tmp_path: Path) -> None:
    """The Jobs page listed a paused campaign's job as "cancelled by the user", as if its labels were lost."""
    from engine.campaigns.jobs import campaign_job
    from engine.runtime.jobs import run_job

    store = Store(tmp_path)
    Campaign.create(store, "c", SLOW)
    job = store.create_job("run-campaign", {"name": "c", "executor": "local:1"})

    def stop_after_the_first_label() -> None:
        while store.status().labels_ok == 0:
            time.sleep(0.05)
        store.request_cancel(job)

    stopper = threading.Thread(target=stop_after_the_first_label)
    stopper.start()
    assert run_job(store, job, campaign_job, {"name": "c", "executor": "local:1"}) == "cancelled"
    stopper.join()
    campaign = Campaign.open(store, "c")
    assert campaign.state == "paused" and 0 < campaign.spent < SLOW["budget"]
    labelled = len(campaign.results())
    pending = campaign.spent - labelled
    assert labelled >= 1 and store.get_job(job).message == (
        f"campaign c paused: {labelled} of its 8 solver calls labelled"
        + (f", {pending} proposed design{'' if pending == 1 else 's'} to label on resume" if pending else "")
        + "; resuming it continues from there")


def test_the_same_campaign_on_a_dask_cluster_gives_the_same_result(tmp_path: Path) -> None:
    results = []
    for spec in ("local:2", "dask-local:2"):
        directory = tmp_path / spec.replace(":", "-")
        directory.mkdir()
        store = Store(directory)
        campaign = Campaign.create(store, "c", {**FAST, "budget": 8})
        with make_executor(spec) as executor:
            campaign.run(executor)
        results.append(json.dumps(_history(campaign)))
    assert results[0] == results[1]


def test_best_designs_say_which_plates_did_not_break(tmp_path: Path) -> None:
    """A plate that still carried load at the largest strain has a lower-bound toughness: the table and
    the report say so, naming its rank (fed known labels by ask/tell)."""
    from engine.campaigns.report import best_rows, unbroken_note

    config = {**FAST, "budget": 4, "batch_size": 4, "objective": {"kind": "metric", "metrics": ["toughness"]},
              "evaluator": {"kind": "fracture", "fidelity": "full"}}
    campaign = Campaign.create(Store(tmp_path), "censored", config)
    batch = campaign.ask()
    labels = {0: (3.0, True), 1: (9.0, False), 2: (5.0, True), 3: (7.0, False)}
    campaign.tell({c.id: Evaluation("ok", None, {"toughness": labels[c.id][0], "broke": labels[c.id][1]})
                   for c in batch})
    rows = best_rows(campaign, 4)
    assert [(r["toughness (MJ/m³)"], r["broke"]) for r in rows] == [(9.0, False), (7.0, False), (5.0, True),
                                                                   (3.0, True)]
    assert unbroken_note(rows).startswith("2 of these 4 designs (ranks 1, 2) still carried load")
    assert unbroken_note(rows[1:3]).startswith("1 of these 2 designs (rank 2) still carried load")
    assert unbroken_note(rows[:1]).startswith("This design still carried load") and unbroken_note(rows[2:]) is None
    # at the strength fidelity "broke" only says the peak was passed: no toughness, no column
    strength = Campaign.create(Store(tmp_path), "peak", {**config, "objective": {"kind": "metric", "metrics": [
        "strength"]}, "evaluator": {"kind": "fracture", "fidelity": "strength"}})
    batch = strength.ask()
    strength.tell({c.id: Evaluation("ok", None, {"strength": 1.0 + c.id, "toughness": None, "broke": c.id > 1})
                   for c in batch})
    assert all("broke" not in row for row in best_rows(strength, 4))


def test_best_designs_say_which_plates_failed_along_a_grip(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A full label whose crack ran along a grip describes the grip as well as the plate: the table
    carries how each plate failed and the report names the ranks; a label recorded before the crack
    path was read has neither column (fed known labels by ask/tell); ``matloop campaign report`` says so
    under its table."""
    from engine.campaigns.report import best_rows, grip_note

    config = {**FAST, "budget": 4, "batch_size": 4, "objective": {"kind": "metric", "metrics": ["toughness"]},
              "evaluator": {"kind": "fracture", "fidelity": "full"}}
    campaign = Campaign.create(Store(tmp_path), "grips", config)
    batch = campaign.ask()
    paths = {0: {"crack_tip_to_edge": True, "along_grip": False}, 1: {"crack_tip_to_edge": True, "along_grip": True},
             2: {}, 3: {"crack_tip_to_edge": False, "along_grip": True}}
    campaign.tell({c.id: Evaluation("ok", None, {"toughness": 3.0 + c.id, "broke": True, **paths[c.id]}) for c in batch})
    rows = best_rows(campaign, 4)
    assert [(r.get("crack_tip_to_edge"), r.get("along_grip")) for r in rows] == [(False, True), (None, None),
                                                                                 (True, True), (True, False)]
    assert grip_note(rows).startswith("2 of these 4 designs (ranks 1, 3) failed partly along a grip")
    assert grip_note(rows[2:3]).startswith("This design failed partly along a grip") and grip_note(rows[1:2]) is None
    assert grip_note(rows[:2]).endswith(": its strength and toughness describe the grip as well as the plate.")
    from engine.cli import main

    assert main(["--store", str(tmp_path), "campaign", "report", "grips", "--top", "4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == grip_note(rows) and "along_grip" in out[-6]  # the table's header, then its 4 rows


def test_a_campaign_labelled_by_an_older_solver_is_shown_but_not_continued(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """After a solver version bump the campaign still opens with its own labels (status, best designs,
    report), while ask, tell and run say why it cannot go on; a new campaign labels with the new version."""
    from engine.cli import main
    from engine.evaluators.fracture import FractureEvaluator

    store = Store(tmp_path)
    config = {**FAST, "budget": 8, "batch_size": 4}
    campaign = Campaign.create(store, "old", config)
    with ThreadPoolExecutor(2) as executor:
        assert campaign.run(executor) == "finished"
    before, history = campaign.status(), _history(campaign)
    version = FractureEvaluator.version
    monkeypatch.setattr(FractureEvaluator, "version", version + "-next")

    reopened = Campaign.open(store, "old")
    assert reopened.outdated.startswith(f"campaign 'old' was labelled by phasefield-at2 version {version}; this "
                                        f"matloop labels with version {version}-next")
    assert _history(reopened) == history
    assert {k: v for k, v in reopened.status().items() if k not in ("updated", "outdated")} == \
        {k: v for k, v in before.items() if k not in ("updated", "outdated")}
    for call in (lambda: reopened.ask(1), lambda: reopened.tell({}), lambda: reopened.run(ThreadPoolExecutor(1))):
        with pytest.raises(StoreError, match="can be shown and exported but not continued"):
            call()
    assert main(["--store", str(tmp_path), "campaign", "report", "old", "--top", "2"]) == 0
    assert "outdated: campaign 'old' was labelled by" in capsys.readouterr().out
    assert main(["--store", str(tmp_path), "campaign", "export", "old", "--out", str(tmp_path / "old.csv")]) == 0
    assert "\noutdated: campaign 'old' was labelled by" in capsys.readouterr().out
    # the exported files say so too: which version made the labels, and that the campaign is outdated
    with (tmp_path / "old.csv").open() as table:
        assert {row["solver"] for row in csv.DictReader(table)} == \
            {f"phasefield-at2 {version} (fast, settings {reopened.key.config_hash[:12]}) outdated"}
    assert main(["--store", str(tmp_path), "campaign", "export", "old", "--out", str(tmp_path / "old.json")]) == 0
    origins = [record["provenance"] for record in json.loads((tmp_path / "old.json").read_text())]
    assert len(origins) == 8 and all(o["outdated"] == reopened.outdated and o["solver"]["version"] == version
                                     for o in origins)
    assert main(["--store", str(tmp_path), "campaign", "resume", "old"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("matloop: error: campaign 'old' was labelled by") and error.count("\n") == 1

    fresh = Campaign.create(store, "new", config)  # the same designs, labelled again by the new version
    assert fresh.outdated is None and fresh.key.version == version + "-next"
    fresh.ask()  # killed before its first label: it reopens as a current campaign
    assert Campaign.open(store, "new").outdated is None
    with ThreadPoolExecutor(2) as executor:
        assert Campaign.open(store, "new").run(executor) == "finished"
    assert len(store.labels()) == 16


def test_a_campaign_from_before_stores_kept_its_key_is_known_by_its_labels(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A campaign recorded without its solver key (stores before schema version 5) is outdated when the
    labels of its told batches are all under one key of an older version; with none told, it is current."""
    import sqlite3

    from engine.evaluators.fracture import FractureEvaluator

    store = Store(tmp_path)
    config = {**FAST, "budget": 8, "batch_size": 4}
    with ThreadPoolExecutor(2) as executor:
        assert Campaign.create(store, "old", config).run(executor) == "finished"
    Campaign.create(store, "asked", config).ask()  # the same first designs, each labelled under the old key
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE campaigns SET solver_key = NULL")
    version = FractureEvaluator.version
    monkeypatch.setattr(FractureEvaluator, "version", version + "-next")
    old = Campaign.open(store, "old")
    assert old.outdated and old.key.version == version and old.status()["labelled"] == 8
    assert Campaign.open(store, "asked").outdated is None  # but nothing told: it labels with the new version
    from engine.cli import main

    assert main(["--store", str(tmp_path), "campaign", "status"]) == 0  # the list marks it too
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].startswith("old ") and listing[1].endswith("(outdated)")
    assert listing[2].startswith("asked ") and not listing[2].endswith("(outdated)")
    assert listing[3].startswith("1 outdated: labelled by another solver version or settings")


def test_a_campaign_labelled_under_changed_default_settings_is_shown_but_not_continued(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A default setting that changes the labels (as the default phases' compressive strength did for
    mode II) changes the key without a version bump: the campaign is outdated, recorded key or not; the
    command line lists it so and says how to start it again."""
    import sqlite3

    import engine.evaluators.fracture as evaluators

    from engine.cli import main

    store = Store(tmp_path)
    with ThreadPoolExecutor(2) as executor:
        assert Campaign.create(store, "old", {**FAST, "budget": 8, "batch_size": 4}).run(executor) == "finished"
    Campaign.create(store, "fresh", {**FAST, "budget": 8, "batch_size": 4})
    soft = evaluators.DEFAULT_PHASE_SETTINGS["soft"]
    monkeypatch.setitem(evaluators.DEFAULT_PHASE_SETTINGS, "soft", {**soft, "E": 2 * soft["E"]})  # another default palette
    assert main(["--store", str(tmp_path), "campaign", "status"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].endswith("(outdated)") and not listing[2].endswith("(outdated)")  # nothing labelled yet
    assert listing[3].startswith("1 outdated: labelled by another solver version or settings")
    assert main(["--store", str(tmp_path), "campaign", "run", "old"]) == 2
    assert capsys.readouterr().err.endswith("('matloop campaign status old --config FILE' writes its configuration, "
                                            "'matloop campaign new NEW --config FILE' starts it again)\n")
    for recorded in (True, False):
        if not recorded:
            with sqlite3.connect(store.path) as raw:
                raw.execute("UPDATE campaigns SET solver_key = NULL")
        old = Campaign.open(store, "old")
        assert old.outdated.endswith("with other solver settings than this matloop's (a default setting has changed "
                                     "since), so the campaign can be shown and exported but not continued — start a "
                                     "new campaign with its configuration")
        assert old.status()["labelled"] == 8


def test_the_best_value_is_shown_as_people_read_it(tmp_path: Path) -> None:
    """G/σ² is minimised: the strategy maximises −G/σ² (``best``), status and progress show G/σ² itself."""
    store = Store(tmp_path)
    config = {**FAST, "budget": 4, "objective": {"kind": "metric", "metrics": ["energy_release_rate_per_stress_squared"]}}
    campaign = Campaign.create(store, "g", config)
    messages = []
    with make_executor("local:1") as executor:
        campaign.run(executor, progress=lambda fraction, text: messages.append(text))
    smallest = min(r.evaluation.metrics["energy_release_rate_per_stress_squared"] for r in campaign.results())
    status = campaign.status()
    assert status["best"] == [pytest.approx(-smallest)] and status["best_shown"] == f"{smallest:.4g}"
    assert messages[-1].endswith(f": {smallest:.4g}")


def test_best_spinodoids_are_listed_with_their_parameters(tmp_path: Path) -> None:
    """Report and CSV rows of spinodoids carry rho and the cone angles of each design (fed known labels); a zip
    of their STL files lists the parts unfit to print, and why (as the export of one part says it)."""
    import zipfile

    from designs.stl import part_warnings, spinodoid_part
    from engine.campaigns.report import PART_WARNINGS, best_rows, export_best

    config = {"space": "spinodoid", "strategy": "random", "budget": 3, "batch_size": 3, "seed": 3,
              "objective": {"kind": "target_stiffness", "target": [0.2, 0.05, 0.05, 0.2, 0.05, 0.2, 0.05, 0.05, 0.05]},
              "evaluator": {"kind": "homogenization", "resolution": 24}}
    campaign = Campaign.create(Store(tmp_path), "spin", config)
    batch = campaign.ask()
    campaign.tell({c.id: Evaluation("ok", None, {"C": (np.eye(6) * (0.1 + 0.05 * c.id)).tolist()}) for c in batch})
    rows = best_rows(campaign, 3)
    by_id = {c.id: c.design for c in batch}
    assert [r["candidate"] for r in rows] == [2, 1, 0]  # C11 = 0.2, 0.15, 0.1 against 0.2
    for row in rows:
        design = by_id[row["candidate"]]
        assert row["rho"] == design.rho
        assert [row[f"theta_{a} (deg)"] for a in "xyz"] == list(design.theta)
    assert rows[0]["error C11"] == pytest.approx(0.0, abs=1e-12) and rows[2]["error C11"] == pytest.approx(0.5)
    expected = {f"design-{c.id}-{c.design.content_hash()[:12]}.stl": part_warnings(*spinodoid_part(c.design))
                for c in batch}
    with zipfile.ZipFile(io.BytesIO(export_best(campaign, "stl", 3))) as zipped:
        assert sorted(n for n in zipped.namelist() if n.endswith(".stl")) == sorted(expected)
        assert json.loads(zipped.read(PART_WARNINGS)) == {n: w for n, w in expected.items() if w}
    # seed 3: the three parts fall apart, two of them only by a crumb the cell faces cut off
    assert [len(w) for w in expected.values()] == [1, 1, 1]
    assert sum("separate bodies (the other holds only 0.0" in w[0] for w in expected.values()) == 2


def test_campaigns_of_different_objectives_are_not_drawn_on_one_axis(tmp_path: Path) -> None:
    """``report a b --plot`` drew a strength campaign's MPa as the first campaign's stiffness axis."""
    from engine.campaigns.report import plot_best_so_far

    store = Store(tmp_path)
    stiff = Campaign.create(store, "stiff", FAST)
    soft = Campaign.create(store, "soft", {**FAST, "objective": {"kind": "metric",
                                                                 "metrics": ["energy_release_rate_per_stress_squared"]}})
    with pytest.raises(ValueError, match="^one plot shows campaigns of one objective; these differ: stiff: maximise "
                                         "stiffness; soft: minimise energy_release_rate_per_stress_squared$"):
        plot_best_so_far([stiff, soft])
    assert plot_best_so_far([stiff, Campaign.create(store, "stiff2", {**FAST, "seed": 6})]).startswith(b"\x89PNG")
