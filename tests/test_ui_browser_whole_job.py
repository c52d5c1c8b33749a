"""A whole job in a real browser: upload 20 designs, label them, train a CNN, rank 10 000 candidates,
label the top 5, compare them with the best of the first 20 in the library and export them.

The exports are checked against the store and against what the test itself wrote and computed:
the JSON holds the selected genomes (same content hashes), the CSV the stored label values, each
3MF one plate of grid × block edge by thickness; the labelled top 5 are the model's best 5 of the
10 000 seeded candidates, found here by scoring every candidate and sorting with NumPy.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app, streamlit_command
from designs.base import content_hash
from designs.checkerboard import Checkerboard
from engine.store import Store

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason())),
]

SIDE = 4  # blocks per side: one fast (linear) solve of a 4×4 plate takes well under a second
N_FIRST = 20
N_CANDIDATES = 10_000
TOP = 5
EPOCHS = 30
HELD_OUT = "0.25"
EDGE_MM, THICKNESS_MM = 3.0, 1.5  # not the page's defaults (5 and 2), so the export must use what was typed
ROW_PX = 35  # Streamlit's data-grid row (and header) height in pixels


def first_designs() -> list[Checkerboard]:
    """Twenty distinct seeded 4×4 checkerboards, half soft."""
    rng = np.random.default_rng(2024)
    designs: dict[str, Checkerboard] = {}
    while len(designs) < N_FIRST:
        design = Checkerboard.random(SIDE, soft_fraction=0.5, seed=rng)
        designs.setdefault(design.content_hash(), design)
    return list(designs.values())


def model_top(store: Store) -> tuple[dict, list[str]]:
    """The registered model and the hashes of its best TOP distinct candidates, by NumPy over every score."""
    from engine.surrogates.ranking import load_registered_model, random_plate_grids

    (record,) = store.models()
    model, _ = load_registered_model(store, int(record["id"]))
    grids = random_plate_grids(N_CANDIDATES, SIDE, SIDE, 0.5, 0)
    scores = np.asarray(model.rank_scores(grids), dtype=float)
    assert scores.shape == (N_CANDIDATES,) and np.isfinite(scores).all()
    hashes: list[str] = []
    for i in np.argsort(-scores, kind="stable"):  # stiffness: larger is better; ties by stream position
        h = Checkerboard.from_array(grids[i]).content_hash()
        if h not in hashes:
            hashes.append(h)
        if len(hashes) == TOP:
            break
    return record, hashes


def test_whole_job_upload_label_train_rank_label_compare_export(store_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = Path(os.environ.get("MATLOOP_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    designs = first_designs()
    upload = tmp_path / "first-designs.jsonl"
    upload.write_text("".join(json.dumps({"space": d.space, "genome": d.genome()}) + "\n" for d in designs))
    first = [d.content_hash() for d in designs]

    port = free_port()
    env = {**os.environ, "MATLOOP_STORE": str(store_dir), "MATLOOP_EXECUTOR": "local:1"}
    with running_app(streamlit_command(port), port, env), browser_page() as page:
        page.set_viewport_size({"width": 1400, "height": 1200})
        page.set_default_timeout(60_000)
        status = page.locator("[data-testid='stStatusWidget']")

        def settled() -> None:
            status.wait_for(state="hidden", timeout=120_000)

        def number(label: str, value: object) -> None:
            box = page.get_by_label(label, exact=True)
            box.fill(str(value))
            box.press("Tab")
            expect(box).to_have_value(str(value))

        def finished(timeout: float = 240_000) -> None:
            # the job panel's progress label, which ends as "<kind> job — done|failed|cancelled — …":
            # a failed job is reported at once, not after the timeout. (The "Job finished" box
            # below it once went missing in a run of two browser tests side by side on two cores,
            # with the job done and its result drawn.)
            label = page.get_by_text(re.compile(r" job — (done|failed|cancelled) — ")).first
            try:
                label.wait_for(timeout=timeout)
                settled()
            finally:
                page.screenshot(path=str(shots / "last-job.png"), full_page=True)
            ended = label.inner_text()
            assert " job — done — " in ended, (ended, page.get_by_text(re.compile(r"^Job (failed|was cancelled)")).all_inner_texts())
            assert not page.get_by_text("Traceback").count()

        # 1. Upload the 20 designs on Label a batch and label them (fast fidelity) in one job.
        page.goto(f"http://localhost:{port}/label_batch")
        page.get_by_role("heading", name="Label a batch").wait_for()
        page.get_by_text("Design file", exact=True).first.click()
        page.locator("input[type='file']").set_input_files(str(upload))
        page.get_by_text(f"{upload.name}: {N_FIRST} designs, checked.").wait_for()
        settled()
        page.screenshot(path=str(shots / "1-uploaded.png"), full_page=True)
        page.get_by_role("button", name="Label designs").click()
        finished()
        page.screenshot(path=str(shots / "2-labelled.png"), full_page=True)

        store = Store(store_dir, create=False)
        (batch,) = [j for j in store.jobs() if j.kind == "label-batch"]
        assert batch.status == "done" and batch.params["fidelity"] == "fast"
        assert sorted(content_hash(r["space"], r["genome"]) for r in batch.params["designs"]) == sorted(first)
        labels = {label.design_hash: label for label in store.labels(status="ok")}
        assert sorted(labels) == sorted(first)  # one ok label per uploaded design, nothing else

        # 2. Train a CNN on stiffness (what fast labels hold).
        page.goto(f"http://localhost:{port}/train")
        page.get_by_role("heading", name="Train a surrogate").wait_for()
        settled()
        number("Most epochs", EPOCHS)
        number("Held-out share", HELD_OUT)  # 5 of 20 held out: the least training accepts
        page.get_by_role("button", name="Train").click()
        finished()
        page.screenshot(path=str(shots / "3-trained.png"), full_page=True)
        (record,) = store.models()
        assert record["metrics"]["target"] == "stiffness" and record["metrics"]["task"] == "regression"
        assert (record["metrics"]["n_train"], record["metrics"]["n_test"]) == (15, 5)

        # 3. Rank 10 000 random candidates with it; label the top 5.
        page.goto(f"http://localhost:{port}/rank")
        page.get_by_role("heading", name="Rank designs").wait_for()
        settled()
        number("Candidates", N_CANDIDATES)
        number("Top k", TOP)
        page.get_by_role("button", name="Rank candidates").click()
        page.get_by_text(f"Top {TOP} of {N_CANDIDATES:,} candidates").wait_for(timeout=120_000)
        settled()
        page.screenshot(path=str(shots / "4-ranked.png"), full_page=True)
        page.get_by_role("button", name=f"Label the top {TOP}").click()
        finished()
        page.screenshot(path=str(shots / "5-top-labelled.png"), full_page=True)

        _, expected_top = model_top(store)
        (top_job,) = [j for j in store.jobs() if j.kind == "label-batch" and j.id != batch.id]
        assert top_job.status == "done"
        top = [content_hash(r["space"], r["genome"]) for r in top_job.params["designs"]]
        assert top == expected_top, "the labelled designs are not the model's best 5 candidates"
        assert not set(top) & set(first), "a ranked design was one of the 20 (pick another seed)"
        labels = {label.design_hash: label for label in store.labels(status="ok")}
        assert sorted(labels) == sorted(first + top)
        best_first = max(first, key=lambda h: labels[h].metrics["stiffness"])
        chosen = [*top, best_first]

        # 4. Library: sort by stiffness, select the 5 new designs and the best of the first 20, compare.
        page.goto(f"http://localhost:{port}/library")
        page.get_by_role("heading", name="Design library").wait_for()
        settled()
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.locator("[data-testid='stSelectbox']").filter(has_text="Sort by").click()
        page.get_by_role("option", name="stiffness (MPa)", exact=True).click()
        settled()
        order = sorted(labels, key=lambda h: -labels[h].metrics["stiffness"])  # the table's rows, stiffest first
        rows = sorted(order.index(h) for h in chosen)
        grid = page.locator("[data-testid='stDataFrame']").first
        scroller = grid.locator(".dvn-scroller")
        expect(scroller).to_be_visible()
        for count, row in enumerate(rows, start=1):
            # Scroll the grid so that the row is at the top (or as far as it goes), then tick its box.
            top = scroller.evaluate(f"(el) => {{ el.scrollTop = {row * ROW_PX}; return el.scrollTop; }}")
            page.wait_for_timeout(200)  # the canvas redraws on the next animation frame
            box = grid.bounding_box()
            y = box["y"] + ROW_PX + row * ROW_PX - top + ROW_PX / 2
            assert box["y"] + ROW_PX < y < box["y"] + box["height"], (row, top, box)
            page.mouse.click(box["x"] + 16, y)
            page.get_by_role("heading", name=f"Selected: {count} row").wait_for()
            settled()
        page.get_by_role("heading", name=f"Selected: {len(chosen)} rows, {len(chosen)} designs").wait_for()
        for h in chosen:  # each chosen design is drawn with its hash in the title
            expect(page.locator("[data-testid='stPlotlyChart'] .gtitle", has_text=h[:12])).to_have_count(1)
        page.screenshot(path=str(shots / "6-compared.png"), full_page=True)

        # 5. Export the selection: designs JSON, table CSV, zip of 3MF (and STL) plates.
        def download(button: str) -> bytes:
            with page.expect_download() as event:
                page.get_by_role("button", name=button).click()
            path = tmp_path / event.value.suggested_filename
            event.value.save_as(path)
            return path.read_bytes()

        exported_json = download(f"Designs (JSON, {len(chosen)})")
        exported_csv = download(f"Table (CSV, {len(chosen)} rows)")
        page.get_by_text("Printable plates (3MF / STL)").click()
        number("Block edge (mm)", f"{EDGE_MM:.2f}")  # the fields show two decimals
        number("Thickness (mm)", f"{THICKNESS_MM:.2f}")
        settled()
        page.get_by_role("button", name="Prepare plates").click()
        page.get_by_role("button", name=f"Download plates (zip, {len(chosen)} plates)").wait_for(timeout=120_000)
        settled()
        page.screenshot(path=str(shots / "7-export.png"), full_page=True)
        exported_zip = download(f"Download plates (zip, {len(chosen)} plates)")

    # The JSON: exactly the selected designs' genomes, with the store's content hashes.
    records = json.loads(exported_json)
    assert sorted(content_hash(r["space"], r["genome"]) for r in records) == sorted(chosen)
    stored = {r.hash: r for r in Store(store_dir, create=False).designs(hashes=chosen)}
    for r in records:
        h = content_hash(r["space"], r["genome"])
        assert r["space"] == stored[h].space and r["genome"] == stored[h].genome

    # The CSV: one row per selected design, metric values equal to the stored labels.
    table = pd.read_csv(io.StringIO(exported_csv.decode()))
    assert sorted(table["design"]) == sorted(chosen)
    for _, row in table.iterrows():
        label = labels[row["design"]]
        assert row["status"] == "ok" and row["fidelity"] == "fast"
        for name, column in (("stiffness", "stiffness (MPa)"),
                             ("energy_release_rate_per_stress_squared",
                              "energy_release_rate_per_stress_squared (mm/MPa)")):
            assert row[column] == pytest.approx(label.metrics[name], rel=1e-12), (column, row["design"])
        assert pd.isna(row["strength (MPa)"]) and pd.isna(row["toughness (MJ/m³)"])  # fast labels have neither

    # The zip: one 3MF per plate, each of grid × block edge by thickness.
    import trimesh

    with zipfile.ZipFile(io.BytesIO(exported_zip)) as archive:
        names = archive.namelist()
        threemf = sorted(n for n in names if n.endswith(".3mf"))
        assert sorted(Path(n).name for n in threemf) == sorted(f"plate-{h[:12]}.3mf" for h in chosen)
        for name in threemf:
            scene = trimesh.load(io.BytesIO(archive.read(name)), file_type="3mf", force="scene")
            low, high = scene.bounds
            assert high - low == pytest.approx([SIDE * EDGE_MM, SIDE * EDGE_MM, THICKNESS_MM], abs=1e-6), name
            assert len(scene.geometry) >= 1
        inside = json.loads(archive.read(next(n for n in names if n.endswith("designs.json"))))
        assert sorted(content_hash(r["space"], r["genome"]) for r in inside) == sorted(chosen)
