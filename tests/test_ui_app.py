"""AppTest unit tests of the pages: store status, the job runner, errors shown as boxes."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from engine.store import JobRecord, Store

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Path:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    return store_dir


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30)


def wait_for_job(at: AppTest, store: Store, timeout: float = 60.0) -> str:
    """Id of the job the page attached to the URL, once the job has finished."""
    job_id = at.query_params["job"]
    job_id = job_id[0] if isinstance(job_id, list) else job_id
    deadline = time.time() + timeout
    while not store.get_job(job_id).finished and time.time() < deadline:
        time.sleep(0.1)
    return job_id


def test_home_page_shows_store_status_and_recent_jobs(app_env: Path) -> None:
    store = Store(app_env)
    store.add_design("vector", [1.0])
    job = store.create_job("demo", {"steps": 1})
    at = new_app().run()
    assert not at.exception
    assert at.title[0].value == "matloop"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Designs"] == "1" and metrics["Jobs running"] == "1"
    assert job[:12] in at.dataframe[0].value["id"].tolist()


def test_home_page_links_every_page_and_nothing_else(app_env: Path) -> None:
    """The home page's links are exactly the app's pages (from ui/app.py's navigation), home aside;
    a link is the page's URL path, its file name without .py."""
    navigation = Path(APP).read_text()
    pages = set(re.findall(r'st\.Page\(_PAGES / "([a-z_]+)\.py"', navigation))
    at = new_app().run()
    assert not at.exception
    linked = [element.proto.page for element in at.get("page_link")]
    assert len(linked) == len(set(linked))
    assert set(linked) == pages - {"home"}
    assert all((Path(APP).parent / "views" / f"{page}.py").is_file() for page in pages)


def test_demo_page_runs_a_job_and_reattaches_from_the_url(app_env: Path) -> None:
    at = new_app().run()
    at.switch_page("views/demo_job.py").run()
    assert at.title[0].value == "Job runner demo"
    at.number_input[0].set_value(6)
    at.number_input[1].set_value(150)
    at.button[0].click().run()
    store = Store(app_env)
    job_id = wait_for_job(at, store)
    assert store.get_job(job_id).status == "done"

    # A fresh session (a reload) with the job id in the URL finds the finished job.
    again = new_app()
    again.query_params["job"] = job_id
    again.run()
    again.switch_page("views/demo_job.py").run()
    assert not again.exception
    assert "Job finished" in again.success[0].value
    assert float(again.metric[0].value) == pytest.approx(0.98, abs=0.05)  # semicircle edge


def test_unknown_job_id_in_url_is_a_warning(app_env: Path) -> None:
    at = new_app()
    at.query_params["job"] = "f" * 32
    at.run()
    at.switch_page("views/demo_job.py").run()
    assert not at.exception
    assert "No job with id" in at.warning[0].value


def test_jobs_page_lists_and_cancels(app_env: Path) -> None:
    store = Store(app_env)
    running = store.create_job("demo", {})
    store.start_job(running)
    at = new_app().run()
    at.switch_page("views/jobs.py").run()
    assert not at.exception
    assert running in at.dataframe[0].value["id"].tolist()
    at.button[0].click().run()
    assert store.get_job(running).cancel_requested


def test_jobs_page_links_every_job_to_its_page_with_times_and_messages(app_env: Path) -> None:
    from engine.runtime.jobkinds import JOB_KINDS

    store = Store(app_env)
    ids = {kind: store.create_job(kind, {"name": "a b"} if kind == "run-campaign" else {}) for kind in JOB_KINDS}
    store.start_job(ids["demo"])
    store.finish_job(ids["demo"], "failed", error="ValueError: " + "a long reason " * 20)
    at = new_app().run()
    at.switch_page("views/jobs.py").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("id")
    views = Path(APP).parent / "views"
    for kind, job_id in ids.items():
        link = table.loc[job_id, "result"]
        page, _, query = link.removeprefix("/").partition("?")
        assert (views / f"{page}.py").is_file() and f"job={job_id}" in query, link
    assert table.loc[ids["run-campaign"], "result"].endswith("&campaign=a%20b")
    assert table.loc[ids["demo"], "message"].endswith("a long reason ")  # the whole message
    assert pd.notna(table.loc[ids["demo"], "finished"]) and pd.isna(table.loc[ids["label-fracture"], "finished"])
    assert table["created"].notna().all()


@pytest.mark.parametrize(
    ("store_value", "executor", "message"),
    [
        ("/nonexistent/dir/s.sqlite", "local", "does not exist"),
        ("CORRUPT", "local", "not a usable matloop store"),
        ("/sys/s.sqlite", "local", "not writable"),
        ("GOOD", "threads", "unknown executor 'threads'"),
    ],
)
def test_bad_settings_show_an_error_box_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store_value: str, executor: str, message: str
) -> None:
    if store_value == "CORRUPT":
        store_value = str(tmp_path / "corrupt.sqlite")
        Path(store_value).write_bytes(b"not sqlite" * 50)
    elif store_value == "GOOD":
        store_value = str(tmp_path)
    monkeypatch.setenv("MATLOOP_STORE", store_value)
    monkeypatch.setenv("MATLOOP_EXECUTOR", executor)
    for page in (None, "views/demo_job.py", "views/jobs.py", "views/library.py", "views/tracks.py"):
        at = new_app().run()
        if page:
            at.switch_page(page).run()
        assert not at.exception
        assert len(at.error) == 1 and message in at.error[0].value


def run_page_job(page: str, button: str, configure: Callable[[AppTest], None] | None = None) -> tuple[AppTest, JobRecord]:
    """Open ``page``, set inputs, press ``button``, wait for the job, redraw; the job must succeed."""
    at = new_app().run()
    at.switch_page(page).run()
    assert not at.exception
    if configure is not None:
        configure(at)
    next(b for b in at.button if b.label == button).click().run()
    store = Store(os.environ["MATLOOP_STORE"])
    job = store.get_job(wait_for_job(at, store, timeout=120))
    assert job.status == "done", job.error
    at.run()
    assert not at.exception
    return at, job


def test_label_page_labels_a_random_checkerboard_into_the_store(app_env: Path) -> None:
    at, job = run_page_job("views/label_design.py", "Label design",
                           lambda at: at.selectbox[0].set_value("fast").run())
    assert at.title[0].value == "Label a design"
    assert "Job finished" in at.success[0].value
    assert Store(app_env).status().labels_ok == 1
    stiffness = float(at.metric[0].value)
    assert 100 < stiffness < 1000  # between the soft and stiff block moduli, MPa
    assert len(at.get("download_button")) == 5  # plate 3MF and STL zip, curve, metrics, design


def test_spinodoid_page_homogenises_and_exports(app_env: Path) -> None:
    at, job = run_page_job("views/spinodoid.py", "Compute stiffness", lambda at: at.selectbox[0].set_value(24))
    C = job.result["metrics"]["C"]
    # Near-isotropic at ρ = 0.5: C11 ≈ C22 ≈ C33 well below the solid's 1.346 (units of E).
    diagonal = [C[i][i] for i in range(3)]
    assert 0.05 < min(diagonal) and max(diagonal) < 0.6
    next(b for b in at.button if b.label == "Prepare STL").click().run()
    assert not at.exception
    assert any(d.label.startswith("Download STL") for d in at.get("download_button"))


def test_train_page_trains_on_stored_labels(app_env: Path) -> None:
    from test_engine_training import known_truth_store

    known_truth_store(app_env, n=40)
    at, job = run_page_job("views/train.py", "Train", lambda at: at.number_input[0].set_value(5))
    assert len(at.get("plotly_chart")) == 2
    assert at.dataframe[-1].value["id"].tolist() == [job.result["model_id"]]
    # the same request again (Enter in a field submits the form, then Train is pressed): shown, not retrained
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception and len(Store(app_env).models()) == 1
    assert f"was trained already (job `{job.id}`)" in at.info[0].value
    assert [j.kind for j in Store(app_env).jobs()] == ["train-grid"]


def test_train_page_refuses_too_few_labels_before_a_job(app_env: Path) -> None:
    """4 labels cannot be split into 10 to train on and 5 held out: said on the page, with how many the share
    needs (the engine's own split rule), and no job is started. The share offered is the one that needs the
    fewest labels: 0.35 holds out round(5.25) = 5 of 15."""
    from engine.surrogates.training import check_split
    from test_engine_training import known_truth_store

    known_truth_store(app_env, n=4)
    at = new_app().run()
    at.switch_page("views/train.py").run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception and not Store(app_env).jobs()
    with pytest.raises(ValueError) as refused:
        check_split(4, 0.35)
    assert "share of 0.35 needs at least 15 (10 to train on, 5 held out;" in str(refused.value)
    assert check_split(15, 0.35) == 5 and check_split(96, 0.9) == 86  # 0.9 x 96 = 86.4: 10 left to train on
    with pytest.raises(ValueError, match="needs at least 96"):
        check_split(95, 0.9)  # round(85.5) = 86 held out, 9 to train on
    assert at.error[0].value.startswith(f"Cannot train on these labels: {refused.value}")


PAGES_AND_KINDS = {
    "views/demo_job.py": ("demo",), "views/label_design.py": ("label-fracture",),
    "views/spinodoid.py": ("homogenize-spinodoid",), "views/train.py": ("train-grid",),
    "views/ordering.py": ("identify-structures",), "views/softness.py": ("glass-softness", "glass-softness-train"),
    "views/library.py": (),  # runs no jobs: every kind is another page's
    "views/holograms.py": ("characterise-hologram",),
    "views/tracks.py": (),  # runs no jobs: the analysis is quick enough for the page itself
    "views/label_batch.py": ("label-batch",),
    "views/rank.py": (),  # runs no jobs: the ranking runs in the page; its "Label the top k" job is Label a batch's
}


def test_every_page_names_the_right_page_for_a_job_of_another_kind(app_env: Path) -> None:
    """Every job page opened with finished jobs of other kinds and with an unknown or a malformed id: a
    message and no traceback (the other kinds' results are never drawn with this page's code). The
    kinds and ids rotate over the pages so that each is tried on several pages."""
    from engine.runtime.jobkinds import JOB_KINDS
    from ui.job_panel import PAGE_OF_KIND

    assert set(PAGE_OF_KIND) == set(JOB_KINDS)
    store = Store(app_env)
    jobs = {}
    for kind in JOB_KINDS:
        jobs[kind] = store.create_job(kind, {})
        store.start_job(jobs[kind])
        store.finish_job(jobs[kind], "done", result={"unexpected": "result of another kind"})
    bad_ids = ("0" * 32, "../../etc/passwd'; --")
    tried: set[str] = set()
    for i, (page, kinds) in enumerate(PAGES_AND_KINDS.items()):
        others = [kind for kind in JOB_KINDS if kind not in kinds]
        chosen = [others[(2 * i + k) % len(others)] for k in range(2)]
        tried.update(chosen)
        for job_id, expected in [*[(jobs[k], f"is of kind {k};") for k in chosen],
                                 (bad_ids[i % 2], "No job with id")]:
            at = new_app()
            at.query_params["job"] = job_id
            at.run()
            at.switch_page(page).run()
            assert not at.exception, (page, job_id, at.exception)
            assert any(expected in w.value for w in at.warning), (page, job_id, [w.value for w in at.warning])
            if job_id in jobs.values():
                kind = store.get_job(job_id).kind
                assert any(f"Open it on the {PAGE_OF_KIND[kind][0]} page" in w.value for w in at.warning)
    assert tried == set(JOB_KINDS)
