"""AppTest tests of the Campaigns page: checked configuration, a small campaign run as a job, URLs."""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.campaigns.campaign import Campaign
from engine.search.registry import STRATEGIES, strategy_class
from engine.store import Store
from support_pages import record_submitted_jobs

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
PAGE = "views/campaigns.py"


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Path:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local:2")
    return store_dir


def campaigns_page(campaign: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if campaign is not None:
        at.query_params["campaign"] = campaign
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def configure(at: AppTest, **numbers: int) -> AppTest:
    """A small checkerboard campaign: random search, fast labels (one linear solve each)."""
    at.sidebar.selectbox(key="fidelity").set_value("fast")
    at.sidebar.selectbox(key="metric").set_value("stiffness")
    at.sidebar.number_input(key="rows").set_value(4)
    at.sidebar.number_input(key="columns").set_value(4)
    for key, value in numbers.items():
        at.sidebar.number_input(key=key).set_value(value)
    return at


def start(at: AppTest) -> AppTest:
    next(b for b in at.sidebar.button if b.label == "Start campaign").click().run()
    assert not at.exception
    return at


def test_page_is_listed_and_empty_store_says_how_to_start(app_env: Path) -> None:
    at = campaigns_page()
    assert at.title[0].value == "Design campaigns"
    assert "No campaigns in this store yet" in at.info[0].value
    assert "random" in at.sidebar.selectbox(key="strategy").options  # and whatever else the registry holds


def bad_batch(at: AppTest) -> None:
    configure(at, budget=6, batch=7)


def blank_name(at: AppTest) -> None:
    configure(at).sidebar.text_input(key="name").set_value("  ")


def target_stiffness(text: str):  # noqa: ANN201 - a configure step
    def step(at: AppTest) -> None:
        at.sidebar.selectbox(key="space").set_value("spinodoid").run()
        at.sidebar.radio(key="objective-kind").set_value("target_stiffness").run()
        at.sidebar.text_input(key="target").set_value(text)

    return step


def pretrain_on_fast_labels(at: AppTest) -> None:
    at.sidebar.selectbox(key="strategy").set_value("genetic").run()
    configure(at, pretrain=5)


@pytest.mark.parametrize(
    ("step", "message"),
    [(bad_batch, "batch_size 7 is larger than the budget 6"),
     (pretrain_on_fast_labels, "pretrain labels designs at the fast fracture fidelity for an objective at the "
                               "strength or full fidelity"),
     (blank_name, "a campaign needs a name of 1..100 characters"),
     (target_stiffness("1 2 0 1 0 1 1 1 1"), "the target stiffness is not positive definite"),
     (target_stiffness("0.3 0.1 stiff"), "the target stiffness must be 9 numbers")],
)
def test_bad_configuration_is_an_error_box_and_nothing_is_stored(app_env: Path, step, message: str) -> None:  # noqa: ANN001
    at = campaigns_page()
    step(at)
    start(at)
    assert len(at.error) == 1 and "Cannot start this campaign" in at.error[0].value
    assert message in at.error[0].value
    store = Store(app_env)
    assert store.campaigns() == [] and store.status().designs == 0 and store.jobs() == []
    assert "campaign" not in at.query_params


def wait_for_campaign_job(store: Store, name: str, timeout: float = 120.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        jobs = [j for j in store.jobs() if j.kind == "run-campaign" and j.params["name"] == name]
        if jobs and jobs[0].finished:
            return jobs[0].status
        time.sleep(0.2)
    raise TimeoutError(f"campaign {name} still running after {timeout} s")


def test_small_campaign_starts_finishes_and_shows_best_designs(app_env: Path) -> None:
    at = configure(campaigns_page(), budget=6, batch=3)
    at.sidebar.text_input(key="name").set_value("small")
    start(at)
    assert at.query_params["campaign"] in ("small", ["small"])
    assert at.query_params["job"]
    store = Store(app_env)
    assert wait_for_campaign_job(store, "small") == "done"

    at.run()  # the page as a reload sees it
    assert not at.exception
    campaign = Campaign.open(store, "small")
    assert campaign.state == "finished" and campaign.spent == 6
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["State"] == "finished" and metrics["Solver calls"] == "6 / 6"
    assert metrics["Failed labels"] == "0"
    value, unit = metrics["Best stiffness"].split()
    best = float(value)
    assert unit == "MPa"
    # a cracked plate of 100 and 1000 MPa blocks is softer than the stiff phase, stiffer than nothing
    assert 0 < best < 1000
    assert best == pytest.approx(campaign.best(1)[0].evaluation.metrics["stiffness"], rel=1e-3)
    assert "Campaign finished" in at.success[0].value
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # best so far, the best plates
    table = at.dataframe[0].value
    assert table["rank"].tolist()[:3] == [1, 2, 3]
    assert np.all(np.diff(table["stiffness (MPa)"].to_numpy()) <= 0)  # best first
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["Best designs (JSON lines)", "Best designs (CSV)", "Best-so-far plot (PNG)",
                      "Printable STL (zip)", "Printable 3MF (zip)"]

    # a fresh session with the campaign in the URL finds it
    again = campaigns_page("small")
    assert {m.label: m.value for m in again.metric}["State"] == "finished"


def test_the_solver_set_up_of_label_design_reaches_the_campaign(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 2D model, ℓ, mesh, split, grips and phases asked as on Label design are the campaign's
    labels' set-up; a mesh that does not resolve ℓ starts nothing."""
    from fem.materials import DEFAULT_PHASE_SETTINGS

    record_submitted_jobs(monkeypatch)
    at = configure(campaigns_page(), budget=6, batch=3)
    at.sidebar.radio(key="plane").set_value("strain")
    at.sidebar.number_input(key="setup-ell").set_value(1 / 64)
    at.sidebar.number_input(key="setup-element-size").set_value(0.05)
    at.sidebar.text_input(key="name").set_value("set-up")
    start(at)
    assert len(at.error) == 1 and at.error[0].value.startswith("Cannot start this campaign: element_size 0.05 mm does "
                                                               "not resolve the phase-field length ell = 0.015625 mm")
    assert Store(app_env).campaigns() == []
    at.sidebar.number_input(key="setup-element-size").set_value(None)
    at.sidebar.number_input(key="setup-per-block").set_value(32)  # 4 × 4 blocks: ℓ/2 per element
    at.sidebar.radio(key="setup-grips").set_value("clamped")
    at.sidebar.number_input(key="setup-grip-strip").set_value(1.0)
    at.sidebar.number_input(key="setup-stiff-E").set_value(2000.0)
    start(at)
    assert not at.error, [e.value for e in at.error]
    stiff = {**DEFAULT_PHASE_SETTINGS["stiff"], "E": 2000.0}
    assert Campaign.open(Store(app_env), "set-up").config.evaluator == {
        "kind": "fracture", "fidelity": "fast", "options": {
            "mode": "I", "plane": "strain", "ell": 1 / 64, "elements_per_block": 32, "grips": "clamped", "grip_strip": 1.0,
            "materials": {**DEFAULT_PHASE_SETTINGS, "stiff": stiff}}}


def test_unknown_campaign_in_the_url_is_a_warning(app_env: Path) -> None:
    at = campaigns_page("no-such-campaign")
    assert not at.error
    assert "No campaign named 'no-such-campaign'" in at.warning[0].value


def test_every_registered_strategy_gets_a_settings_form(app_env: Path) -> None:
    """Strategies come from the registry; their settings are drawn from the constructor, whatever they are."""
    at = campaigns_page()
    for name in STRATEGIES:
        at.sidebar.selectbox(key="strategy").set_value(name).run()
        assert not at.exception, name
        assert at.sidebar.selectbox(key="strategy").value == name
        try:
            cls = strategy_class(name)
        except (ImportError, AttributeError, SyntaxError):  # a strategy module still being written
            assert "cannot be loaded" in at.sidebar.error[0].value
            continue
        assert not at.sidebar.error, name
        widgets = [*at.sidebar.selectbox, *at.sidebar.number_input, *at.sidebar.text_input, *at.sidebar.checkbox]
        keys = {w.key for w in widgets}
        settings = [p for p in inspect.signature(cls.__init__).parameters
                    if p not in ("self", "space", "seed", "objective")]
        assert {f"setting-{name}-{p}" for p in settings} <= keys, name


@pytest.mark.skipif("genetic" not in STRATEGIES, reason="no genetic strategy registered")
def test_a_bad_strategy_setting_is_an_error_box(app_env: Path) -> None:
    at = campaigns_page()
    at.sidebar.selectbox(key="strategy").set_value("genetic").run()
    configure(at)
    at.sidebar.number_input(key="setting-genetic-population").set_value(2)
    start(at)
    assert "Cannot start this campaign" in at.error[0].value and "population" in at.error[0].value
    assert Store(app_env).campaigns() == []


def test_a_pretrained_campaign_is_recorded_and_shows_its_fast_labels(app_env: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    record_submitted_jobs(monkeypatch)
    at = campaigns_page()
    assert "Pre-train on fast labels" not in {w.label for w in at.sidebar.number_input}  # random: no surrogate
    at.sidebar.selectbox(key="strategy").set_value("genetic").run()
    assert "Pre-train on fast labels" in {w.label for w in at.sidebar.number_input}
    configure(at, budget=8, batch=4, pretrain=12)
    at.sidebar.selectbox(key="fidelity").set_value("strength")
    at.sidebar.selectbox(key="metric").set_value("strength")
    at.sidebar.text_input(key="name").set_value("warm")
    start(at)
    record = Store(app_env).campaign("warm")
    assert record["config"]["pretrain"] == 12 and record["config"]["strategy"] == "genetic"
    assert any(c.value == "Pre-training: 0/12 fast labels labelled." for c in at.caption)


def test_an_outdated_campaign_is_shown_with_why_and_starts_again_under_a_new_name(
        app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Labels made under other default settings: a warning instead of Resume, and one button that
    records the same configuration under a free name and submits its job (the old one untouched)."""
    from concurrent.futures import ThreadPoolExecutor

    import engine.evaluators.fracture as evaluators

    store = Store(app_env)
    config = {"space": "checkerboard", "space_settings": {"rows": 4, "columns": 4}, "strategy": "random",
              "objective": {"kind": "metric", "metrics": ["stiffness"]}, "budget": 4, "batch_size": 2, "seed": 3,
              "evaluator": {"kind": "fracture", "fidelity": "fast"}}
    with ThreadPoolExecutor(2) as executor:
        assert Campaign.create(store, "old", config).run(executor) == "finished"
    record_submitted_jobs(monkeypatch)
    soft = evaluators.DEFAULT_PHASE_SETTINGS["soft"]
    monkeypatch.setitem(evaluators.DEFAULT_PHASE_SETTINGS, "soft", {**soft, "E": 2 * soft["E"]})  # a default changed
    listed = campaigns_page().dataframe[0].value
    assert dict(zip(listed["campaign"], listed["outdated"])) == {"old": True}
    at = campaigns_page("old")
    assert "Resume" not in {b.label for b in at.button}
    assert any(w.value.startswith("Campaign 'old' was labelled by phasefield-at2") for w in at.warning)
    next(b for b in at.button if b.label == "Start a new campaign 'old-again-1' with this configuration").click().run()
    assert not at.exception and at.query_params["campaign"] in ("old-again-1", ["old-again-1"])
    assert store.campaign("old-again-1")["config"] == store.campaign("old")["config"]
    assert [j.params["name"] for j in store.jobs() if j.kind == "run-campaign"] == ["old-again-1"]
    assert Campaign.open(store, "old").spent == 4


def test_a_campaign_whose_history_does_not_replay_is_shown_not_resumed(app_env: Path) -> None:
    """Opening it replays nothing, so it is shown with Resume; once a run found that its history does not replay,
    a warning says why it cannot go on, in place of Resume, with the button that starts it again."""
    import sqlite3

    from engine.campaigns.jobs import campaign_job
    from engine.evaluators.protocol import Evaluation
    from engine.runtime.jobs import run_job

    store = Store(app_env)
    config = {"space": "checkerboard", "space_settings": {"rows": 4, "columns": 4}, "strategy": "random",
              "objective": {"kind": "metric", "metrics": ["stiffness"]}, "budget": 6, "batch_size": 2, "seed": 3,
              "evaluator": {"kind": "fracture", "fidelity": "fast"}}
    campaign = Campaign.create(store, "changed", config)
    for _ in range(2):  # two batches labelled, one to go
        campaign.tell({c.id: Evaluation("ok", None, {"stiffness": 100.0 + c.id}) for c in campaign.ask()})
    store.set_campaign_state(campaign.id, "paused")  # this process asked and told; another resumes it
    with sqlite3.connect(store.path) as raw:  # as if the strategy's code had changed: batch 1 is not what it proposes
        raw.execute("UPDATE campaign_candidates SET design_hash = (SELECT design_hash FROM campaign_candidates "
                    "WHERE seq = 0) WHERE seq = 2")
    at = campaigns_page("changed")
    assert at.metric[1].value == "4 / 6" and "Resume" in {b.label for b in at.button}  # shown as stored
    params = {"name": "changed", "executor": "local:1"}
    assert run_job(store, store.create_job("run-campaign", params), campaign_job, params) == "failed"
    at = campaigns_page("changed")
    assert not at.exception and "Resume" not in {b.label for b in at.button} and not at.error
    assert [w.value for w in at.warning] == [
        "Campaign 'changed': replaying its strategy proposes other designs than it stored in batch 1 (was the code "
        "or the environment changed?); it cannot resume, but it can be shown and exported."]
    assert any(b.label == "Start a new campaign 'changed-again-1' with this configuration" for b in at.button)
    assert at.metric[1].value == "4 / 6"


def test_a_campaign_run_from_the_command_line_is_followed_not_resumed(app_env: Path) -> None:
    """A campaign that another live process runs (``matloop campaign run``) is shown running, by that process,
    and offers no Resume; once that process is killed it reads "interrupted" and offers Resume."""
    from support_runner import campaign_run_elsewhere

    config = {"space": "checkerboard", "space_settings": {"rows": 4, "columns": 4}, "strategy": "random",
              "objective": {"kind": "metric", "metrics": ["stiffness"]}, "budget": 4, "batch_size": 2, "seed": 3,
              "evaluator": {"kind": "fracture", "fidelity": "fast"}}
    Campaign.create(Store(app_env), "cli", config)
    with campaign_run_elsewhere(app_env, "cli") as holder:
        at = campaigns_page("cli")
        assert not at.exception and at.metric[0].value == "running"
        assert f"Run by process {holder.pid} outside this app" in " ".join(c.value for c in at.caption)
        assert not {"Resume", "Start"} & {b.label for b in at.button}
    at = campaigns_page("cli")
    assert at.metric[0].value == "interrupted" and "Start" in {b.label for b in at.button}
    assert not any("outside this app" in c.value for c in at.caption)


def test_a_campaign_without_a_value_says_why_and_offers_no_export(app_env: Path) -> None:
    """Every label failed: a warning names the reasons, and there is nothing to export (no Export section)."""
    from engine.evaluators.protocol import Evaluation

    config = {"space": "checkerboard", "space_settings": {"rows": 4, "columns": 4}, "strategy": "random",
              "objective": {"kind": "metric", "metrics": ["stiffness"]}, "budget": 2, "batch_size": 2, "seed": 3,
              "evaluator": {"kind": "fracture", "fidelity": "fast"}}
    campaign = Campaign.create(Store(app_env), "failing", config)
    campaign.tell({c.id: Evaluation("failed", "the solve diverged", {}) for c in campaign.ask()})
    at = campaigns_page("failing")
    assert not at.exception
    assert [w.value for w in at.warning] == ["None of the 2 labelled designs has a value of the objective (maximise "
                                             "stiffness); 2 labels failed. the solve diverged"]
    assert "Export" not in [h.value for h in at.subheader]


def test_campaigns_of_one_objective_and_solver_are_compared_on_one_plot(app_env: Path) -> None:
    """Two random searches of the same space, objective and solver form one group; the plot draws each one's
    best so far, ending at its best stiffness; a campaign of another fidelity is in no group (none to compare)."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    store = Store(app_env)
    config = {"space": "checkerboard", "space_settings": {"rows": 4, "columns": 4}, "strategy": "random",
              "objective": {"kind": "metric", "metrics": ["stiffness"]}, "budget": 4, "batch_size": 4,
              "evaluator": {"kind": "fracture", "fidelity": "fast"}}
    best = {}
    with ThreadPoolExecutor(2) as executor:
        for seed in (1, 2):
            campaign = Campaign.create(store, f"seed-{seed}", {**config, "seed": seed})
            assert campaign.run(executor) == "finished"
            best[campaign.name] = campaign.best(1)[0].evaluation.metrics["stiffness"]
    Campaign.create(store, "strength", {**config, "evaluator": {"kind": "fracture", "fidelity": "strength"}})
    at = campaigns_page()
    assert not at.exception
    assert at.selectbox(key="compare-group").options == ["maximise stiffness · checkerboard · fidelity fast"]
    assert at.multiselect(key="compare-maximise stiffness · checkerboard · fidelity fast").value == ["seed-1", "seed-2"]
    (plot,) = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert plot["layout"]["title"]["text"] == "best so far: maximise stiffness"
    assert {trace["name"]: trace["y"][-1] for trace in plot["data"]} == \
        {f"{name} (random)": pytest.approx(value) for name, value in best.items()}


def test_errors_of_a_target_stiffness_are_drawn_on_a_log_axis(tmp_path: Path) -> None:
    """They span decades (hundreds of per cent at the start, about one at the end); other values stay linear."""
    from engine.campaigns.objectives import stiffness_matrix
    from engine.evaluators.protocol import Evaluation
    from ui.campaign_figures import best_so_far_figure

    store = Store(tmp_path)
    target = [0.3, 0.1, 0.1, 0.2, 0.1, 0.15, 0.05, 0.05, 0.05]
    campaign = Campaign.create(store, "match", {"space": "spinodoid", "strategy": "random", "budget": 2, "batch_size": 2,
                                                "seed": 0, "objective": {"kind": "target_stiffness", "target": target}})
    asked = campaign.ask()
    campaign.tell({c.id: Evaluation("ok", None, {"C": stiffness_matrix([v * s for v in target]).tolist()})
                   for c, s in zip(asked, (4.0, 1.02))})
    figure = best_so_far_figure(campaign)
    assert figure.layout.yaxis.type == "log"
    np.testing.assert_allclose(figure.data[1].y, [300.0, 2.0])  # per cent
    # within 10 % the target is reached; a campaign whose best misses it by more says so (page and command line)
    from engine.campaigns.report import best_rows, target_note

    assert target_note(best_rows(campaign, 1)) is None
    missed = Campaign.create(store, "missed", {"space": "spinodoid", "strategy": "random", "budget": 1, "batch_size": 1,
                                               "seed": 5, "objective": {"kind": "target_stiffness", "target": target}})
    missed.tell({c.id: Evaluation("ok", None, {"C": stiffness_matrix([v * s for v, s in zip(
        target, (1.5, 1.0, 1.0, 1.05, 1.0, 1.0, 1.0, 1.0, 1.0))]).tolist()}) for c in missed.ask()})
    assert target_note(best_rows(missed, 1)) == (
        "The target is not reached: the best design misses it by 50 %, 5 %, 0 % on C11, C22, C33 (more than 10 %). "
        "The target may lie outside what this design space reaches at its ρ range (no design comes nearer), or the "
        "campaign needs more solver calls.")
    plain = Campaign.create(store, "plain", {"space": "spinodoid", "strategy": "random", "budget": 2, "batch_size": 2,
                                             "seed": 0, "objective": {"kind": "metric", "metrics": ["E1"]}})
    assert best_so_far_figure(plain).layout.yaxis.type == "linear"
    # a short axis is ticked at whole solver calls (Plotly would tick 0.5, 1, 1.5, ...); a long one is left to Plotly
    assert (figure.layout.xaxis.dtick, tuple(figure.layout.xaxis.range)) == (1, (0, 3))
    from ui.campaign_figures import calls_axis

    assert "dtick" not in calls_axis(40) and calls_axis(10)["dtick"] == 1


@pytest.mark.skipif("bayesian" not in STRATEGIES, reason="no bayesian strategy registered")
def test_a_bayesian_campaign_leaves_its_optional_settings_to_the_strategy(app_env: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings that default to None (model, symmetry) are sent only when chosen: a metric objective gets the
    value model without relabelled twins; a budget its initial design would spend is an error box."""
    record_submitted_jobs(monkeypatch)
    at = campaigns_page()
    at.sidebar.selectbox(key="space").set_value("spinodoid").run()
    at.sidebar.selectbox(key="strategy").set_value("bayesian").run()
    for name in ("symmetry", "model", "transform"):  # shown as "default"
        assert at.sidebar.selectbox(key=f"setting-bayesian-{name}").value is None
    assert at.sidebar.selectbox(key="setting-bayesian-model").options == ["default", "value", "composite"]
    at.sidebar.selectbox(key="resolution").set_value(24)
    at.sidebar.number_input(key="budget").set_value(8)
    start(at)
    assert "a budget of 8 is spent on the initial design (n_initial = 10)" in at.error[0].value
    assert Store(app_env).campaigns() == []
    at.sidebar.number_input(key="budget").set_value(12)
    start(at)
    assert not at.error
    campaign = Campaign.open(Store(app_env), Store(app_env).campaigns()[0]["name"])
    strategy = campaign._parts.strategy
    assert (strategy.model, strategy.symmetry) == ("value", False)
    assert "symmetry" not in campaign.config.strategy_settings
