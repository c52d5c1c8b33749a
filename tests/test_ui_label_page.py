"""The label page refuses solver set-ups that cannot label the design: an error box, no job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.store import Store

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


@pytest.fixture
def label_page(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> AppTest:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/label_design.py").run()
    assert not at.exception
    return at


def _widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def _click_label(at: AppTest) -> AppTest:
    return _widget(at.button, "Label design").click().run()


@pytest.mark.parametrize(("configure", "message"), [
    (lambda at: _widget(at.number_input, "Element size (mm)").set_value(0.02),
     "element_size 0.02 mm does not resolve the phase-field length ell = 0.03125 mm: at most ell/2 = 0.015625 mm"),
    (lambda at: _widget(at.number_input, "Phase-field length ℓ (mm)").set_value(0.0),
     "ell must be a finite number in (0, 1), got 0.0"),
])
def test_a_mesh_that_does_not_resolve_ell_gets_an_error_box_and_no_job(label_page: AppTest, store_dir: Path,
                                                                       configure, message: str) -> None:
    configure(label_page)
    at = _click_label(label_page.run())
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value, [e.value for e in at.error]
    assert "job" not in at.query_params
    assert Store(store_dir).jobs() == []


def test_elements_per_block_too_coarse_for_the_grid_is_refused(label_page: AppTest, store_dir: Path) -> None:
    _widget(label_page.radio, "Mesh").set_value("elements per block").run()
    _widget(label_page.number_input, "Elements per block side").set_value(4)
    at = _click_label(label_page.run())
    assert len(at.error) == 1
    assert "elements_per_block = 4 on a 8×8 grid gives elements of 0.03125 × 0.03125 mm" in at.error[0].value
    assert Store(store_dir).jobs() == []


def test_a_set_up_that_resolves_ell_starts_the_job(label_page: AppTest, store_dir: Path) -> None:
    label_page.selectbox[0].set_value("fast").run()
    _widget(label_page.number_input, "Element size (mm)").set_value(1 / 128)
    at = _click_label(label_page.run())
    assert not at.error and "job" in at.query_params
    store = Store(store_dir)
    job = store.jobs()[0]
    deadline = time.time() + 120
    while not store.get_job(job.id).finished and time.time() < deadline:
        time.sleep(0.1)
    done = store.get_job(job.id)
    assert done.status == "done", done.error
    metrics = done.result["metrics"]
    assert metrics["element_size"] == 1 / 128 and metrics["elements"] == 129 * 128
