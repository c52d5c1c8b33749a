"""The Design library page (AppTest): empty store, a labelled store, selection, uploads, exports."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from engine.evaluators.fracture import fracture_key, label_fracture_batch
from engine.store import Store

APP = str(Path(__file__).parents[1] / "ui" / "app.py")
PLATES = [Checkerboard.random(4, seed=s) for s in range(3)]
HIER = Hierarchical.random(2, seed=5)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Path:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    return store_dir


def open_library() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("views/library.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Design library"
    return at


def labelled(store_dir: Path) -> Store:
    """Three 4×4 checkerboards labelled fast in mode I (the first also in mode II) and an unlabelled hierarchical."""
    store = Store(store_dir)
    with ThreadPoolExecutor(1) as executor:
        label_fracture_batch(store, PLATES, "fast", {}, executor)
        label_fracture_batch(store, PLATES[:1], "fast", {"mode": "II"}, executor)
    store.add(HIER)
    return store


def widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_an_empty_store_explains_how_to_get_designs(env: Path) -> None:
    at = open_library()
    assert not at.error and not at.dataframe
    text = at.info[0].value
    assert "The library is empty" in text and "Label a design" in text and "matloop label --random" in text
    assert at.file_uploader[0].label == "Design file"  # the upload is open right away


def test_the_table_lists_designs_with_their_labels_and_a_selection_is_compared(env: Path) -> None:
    store = labelled(env)
    at = open_library()
    table = at.dataframe[0].value
    assert len(table) == 5  # 4 labels, 1 unlabelled design
    assert {"stiffness (MPa)", "strength (MPa)", "toughness (MJ/m³)"} <= set(table.columns)
    assert set(table["design"]) == {d.content_hash()[:12] for d in [*PLATES, HIER]}
    assert (table.loc[table["design"] == HIER.content_hash()[:12], "status"] == "no label").all()
    assert any("4 designs and 4 labels in the store; 5 rows shown." in c.value for c in at.caption)
    # sort by stiffness, largest first: the first rows are the stiffest labels
    widget(at.selectbox, "Sort by").set_value("stiffness (MPa)").run()
    table = at.dataframe[0].value
    values = table["stiffness (MPa)"].dropna().tolist()
    assert values == sorted(values, reverse=True) and len(values) == 4
    assert not at.get("plotly_chart")
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Selected: 2 rows, 2 designs"
    assert len(at.get("plotly_chart")) == 3  # two drawings and the bar chart
    compared = at.dataframe[1].value
    assert compared["stiffness (MPa)"].tolist() == values[:2]
    stiffest = [label for label in store.labels() if label.metrics["stiffness"] == max(values)][0]
    assert compared["design"].iloc[0] == stiffest.design_hash[:12]
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Designs (JSON, 2)", "Table (CSV, 2 rows)"]


def test_filters_narrow_the_table(env: Path) -> None:
    labelled(env)
    at = open_library()
    widget(at.multiselect, "Loading mode").set_value(["II"]).run()
    table = at.dataframe[0].value
    assert table["design"].tolist() == [PLATES[0].content_hash()[:12]] and table["mode"].tolist() == ["II"]
    widget(at.multiselect, "Loading mode").set_value([]).run()
    widget(at.multiselect, "Design space").set_value(["hierarchical"]).run()
    assert at.dataframe[0].value["design"].tolist() == [HIER.content_hash()[:12]]
    widget(at.checkbox, "Only designs with a label").check().run()
    assert not at.dataframe and "No rows match the filters" in at.info[0].value


def test_a_bad_upload_names_every_bad_record_and_stores_nothing(env: Path) -> None:
    store = labelled(env)
    before = store.count_designs()
    records = [{"space": "checkerboard", "genome": Checkerboard.random(4, seed=9).genome()},
               {"space": "voronoi", "genome": {}}, "text", {"space": "checkerboard", "genome": {"grid": [[0, 7]]}}]
    at = open_library()
    at.file_uploader[0].set_value(("bad.json", json.dumps(records).encode(), "application/json")).run()
    assert not at.exception
    message = at.error[0].value
    assert message == ("Nothing was stored. bad.json: 3 of 4 designs are invalid (each is listed below); correct "
                       "them and upload the file again.")
    problems = at.dataframe[0].value
    assert problems["design"].tolist() == [2, 3, 4]
    assert "unknown design space 'voronoi'" in problems["problem"].iloc[0]
    assert "got a string" in problems["problem"].iloc[1] and "grid must be at least 2x2" in problems["problem"].iloc[2]
    assert store.count_designs() == before
    at.file_uploader[0].set_value(("big.json", b" " * (10 * 2**20 + 1), "application/json")).run()
    assert "big.json is too large: 10,485,761 bytes, and at most 10,485,760 bytes are accepted" in at.error[0].value
    assert store.count_designs() == before


def test_a_good_upload_reports_new_and_known_designs(env: Path) -> None:
    store = labelled(env)
    new = Checkerboard.random(6, seed=11)
    lines = "\n".join(json.dumps({"space": d.space, "genome": d.genome()}) for d in (PLATES[0], new))
    at = open_library()
    at.file_uploader[0].set_value(("designs.jsonl", lines.encode(), "application/json")).run()
    assert not at.exception and not at.error
    assert "designs.jsonl: 2 designs: 1 new, 1 already in the store." in at.success[0].value
    assert store.has_design(new.content_hash())
    assert new.content_hash()[:12] in at.dataframe[0].value["design"].tolist()
    at.run()  # a rerun does not store the file again, and still says what happened
    assert "1 new, 1 already in the store" in at.success[0].value


def test_plates_are_refused_out_of_range_and_exported_in_range(env: Path) -> None:
    labelled(env)
    at = open_library()
    widget(at.radio, "Export").set_value("all rows shown").run()
    for label, value, allowed in [("Block edge (mm)", 0.1, "0.5 to 50 mm, not 0.1 mm"),
                                  ("Block edge (mm)", 60.0, "0.5 to 50 mm, not 60 mm"),
                                  ("Thickness (mm)", 0.1, "0.2 to 50 mm, not 0.1 mm"),
                                  ("Thickness (mm)", 51.0, "0.2 to 50 mm, not 51 mm")]:
        widget(at.number_input, label).set_value(value).run()
        assert not at.exception
        assert any(f"{label} must be" in e.value and allowed in e.value for e in at.error), [e.value for e in at.error]
        assert widget(at.button, "Prepare plates").disabled  # nothing is made with another size
        widget(at.number_input, label).set_value(2.0).run()
    assert not at.error and not widget(at.button, "Prepare plates").disabled
    widget(at.number_input, "Block edge (mm)").set_value(4.0).run()
    widget(at.button, "Prepare plates").click().run()
    assert not at.error
    assert any(b.label == "Download plates (zip, 4 plates)" for b in at.get("download_button"))


def plotly_array(value: list | dict) -> np.ndarray:
    """A figure array as plotly writes it to JSON: a list, or ``{"dtype", "bdata"}`` (base64 bytes)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, float)


def test_selected_labels_with_stored_curves_are_overlaid(env: Path) -> None:
    """Strength labels carry their curve: selecting two draws one figure with both curves, in the
    labels' own numbers (a tension and a shear label would be two figures)."""
    store = Store(env)
    key = fracture_key("strength", {})
    curves = {}
    for k, plate in enumerate(PLATES[:2]):
        strain = np.linspace(0.0, 0.02, 6)
        stress = (300.0 + 100.0 * k) * strain
        curves[plate.content_hash()[:12]] = stress.tolist()
        store.put_label(store.add(plate), key, {"mode": "I", "stiffness": 300.0 + 100.0 * k, "strength": float(stress.max()),
                                                "curve": {"strain": strain.tolist(), "stress": stress.tolist()}})
    at = open_library()
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    overlaid = [f for f in figures if "stored stress–strain curves" in f["layout"]["title"]["text"]]
    assert len(overlaid) == 1
    drawn = {trace["name"].split(" · ")[0]: plotly_array(trace["y"]) for trace in overlaid[0]["data"]}
    assert drawn.keys() == curves.keys()
    for name, stress in curves.items():
        np.testing.assert_allclose(drawn[name], stress)
