"""The design library: table of designs × labels, filters, sorting, CSV, upload (all or nothing), exports.

The store is filled through the real labelling API (fast fidelity: one linear solve per plate)
and with hand-made designs whose grid and soft fraction are counted by hand here.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import trimesh

from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.registry import DesignFileError, read_designs
from designs.spinodal import Spinodoid
from engine.evaluators.fracture import FractureEvaluator, fracture_key, label_fracture_batch
from engine.evaluators.spinodoid import homogenize_and_store
from engine.library import (
    LIBRARY_COLUMNS,
    MAX_UPLOAD_BYTES,
    add_design_file,
    check_plate_size,
    designs_json,
    filter_library,
    grid_sizes,
    library_csv,
    library_table,
    plates_zip,
    solver_keys,
    sort_library,
    stored_curves,
)
from engine.store import Store
from fem.fracture import SOLVER_VERSION

FAST = f"phasefield-at2 v{SOLVER_VERSION} · fast"
#: Hand-made: three soft blocks of four (0 = soft), 2 rows × 2 columns.
HAND = Checkerboard(((0, 0), (0, 1)))
#: Hand-made hierarchical 1×2 coarse grid, sub 3: iso has 4 soft of 9 cells ((i + j) odd), "x" 3 of 9 (odd rows).
HIER3 = Hierarchical(((0, 1),), sub=3)
SPINODOID = Spinodoid(0.4, (30.0, 0.0, 90.0), seed=3)
PLATES = [Checkerboard.random(4, seed=s) for s in range(3)]
HIER = Hierarchical.random(2, seed=5)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Three 4×4 checkerboards and a 2×2 hierarchical plate labelled fast in mode I, the first two
    also in mode II; a failed label; unlabelled hand-made designs and a spinodoid."""
    store = Store(tmp_path_factory.mktemp("library"))
    with ThreadPoolExecutor(1) as executor:
        label_fracture_batch(store, [*PLATES, HIER], "fast", {}, executor)
        label_fracture_batch(store, PLATES[:2], "fast", {"mode": "II"}, executor)
    store.add_designs([HAND, HIER3, SPINODOID])
    failed = fracture_key("strength", {})
    assert store.put_label(PLATES[2].content_hash(), failed, {"mode": "I", "plane": "stress"}, status="failed",
                           reason="a hand-made failure", wall_time=1.5)
    return store


def test_a_spinodoid_labels_constants_and_a_fast_labels_k_are_in_the_table_and_csv(tmp_path: Path) -> None:
    """The CSV had empty metric columns for spinodoid labels (only fracture columns existed) and no |K|/σ."""
    store = Store(tmp_path)
    evaluation, _ = homogenize_and_store(store, SPINODOID, 20, "affine")
    with ThreadPoolExecutor(1) as executor:
        label_fracture_batch(store, PLATES[:1], "fast", {}, executor)
    rows = pd.read_csv(io.StringIO(library_csv(library_table(store))))
    spinodoid = rows[rows["space"] == "spinodoid"].iloc[0]
    for name in ("E1", "E2", "E3", "G23", "G13", "G12"):
        assert spinodoid[f"{name} (E_s)"] == pytest.approx(evaluation.metrics[name], rel=1e-9)
    assert spinodoid["nu12"] == pytest.approx(evaluation.metrics["nu12"], rel=1e-9)
    assert math.isnan(spinodoid["stiffness (MPa)"])
    plate = rows[rows["space"] == "checkerboard"].iloc[0]
    label = store.get_label(PLATES[0].content_hash(), fracture_key("fast", {}))
    assert plate["stress_intensity_per_stress (√mm)"] == pytest.approx(label.metrics["stress_intensity_per_stress"])
    assert math.isnan(plate["E1 (E_s)"])


def test_one_row_per_design_and_label_with_the_labels_numbers(library: Store) -> None:
    table = library_table(library)
    assert list(table.columns) == list(LIBRARY_COLUMNS)
    # 4 + 2 + 1 labels, and one row for each of the 3 unlabelled designs
    assert len(table) == 10 and table["design"].nunique() == 7
    for label in library.labels():
        row = table[(table["design"] == label.design_hash) & (table["fidelity"] == label.fidelity)
                    & (table["mode"] == label.metrics["mode"])]
        assert len(row) == 1
        row = row.iloc[0]
        assert row["status"] == label.status and row["reason"] == label.reason
        assert row["config"] == label.config_hash[:12] and row["solver_version"] == label.solver_version
        assert row["wall_time (s)"] == pytest.approx(label.wall_time)
        for name in ("stiffness", "strength", "toughness", "energy_release_rate_per_stress_squared"):
            value = label.metrics.get(name)
            unit = FractureEvaluator().metric(name).unit
            cell = row[f"{name} ({unit})"]
            assert (math.isnan(cell) if value is None else cell == pytest.approx(value)), name
    ok = table[table["status"] == "ok"]
    tension = ok[ok["mode"] == "I"]
    # a mix of 100 MPa and 1000 MPa blocks, softened by the crack, lies between the two moduli
    assert ((tension["stiffness (MPa)"] > 100) & (tension["stiffness (MPa)"] < 1000)).all()
    assert tension["strength (MPa)"].isna().all() and tension["toughness (MJ/m³)"].isna().all()  # fast: not computed
    assert (ok["energy_release_rate_per_stress_squared (mm/MPa)"] > 0).all()
    unlabelled = table[table["status"].isna()]
    assert set(unlabelled["design"]) == {HAND.content_hash(), HIER3.content_hash(), SPINODOID.content_hash()}
    assert unlabelled[["solver", "fidelity", "mode", "reason"]].isna().all().all()
    assert unlabelled["stiffness (MPa)"].isna().all() and unlabelled["labelled_at (UTC)"].isna().all()


def test_grid_and_soft_fraction_counted_by_hand(library: Store) -> None:
    table = library_table(library).drop_duplicates("design").set_index("design")
    assert table.loc[HAND.content_hash(), "grid"] == "2×2"
    assert table.loc[HAND.content_hash(), "soft_fraction"] == 0.75
    assert table.loc[HIER3.content_hash(), "grid"] == "1×2"  # the coarse grid
    assert table.loc[HIER3.content_hash(), "soft_fraction"] == pytest.approx(7 / 18)
    assert table.loc[HIER.content_hash(), "soft_fraction"] == 0.5  # every sub = 2 building block is half soft
    for plate in PLATES:  # Checkerboard.random(4) puts exactly round(0.5 × 16) soft blocks
        assert table.loc[plate.content_hash(), "soft_fraction"] == 0.5
        assert table.loc[plate.content_hash(), "grid"] == "4×4"
    assert table.loc[SPINODOID.content_hash(), "grid"] is None
    assert math.isnan(table.loc[SPINODOID.content_hash(), "soft_fraction"])
    assert grid_sizes(library_table(library)) == ["1×2", "2×2", "4×4"]


def test_filters_by_space_solver_key_mode_grid_and_label(library: Store) -> None:
    table = library_table(library)
    assert solver_keys(table) == [FAST, f"phasefield-at2 v{SOLVER_VERSION} · strength"]
    hashes = lambda rows: sorted(set(rows["design"]))  # noqa: E731
    plate_hashes = sorted(p.content_hash() for p in PLATES)
    assert hashes(filter_library(table, spaces=["checkerboard"])) == sorted(plate_hashes + [HAND.content_hash()])
    assert hashes(filter_library(table, spaces=["spinodoid"])) == [SPINODOID.content_hash()]
    fast = filter_library(table, solver_keys=[FAST])
    assert len(fast) == 6 and (fast["fidelity"] == "fast").all()
    shear = filter_library(table, modes=["II"])
    assert hashes(shear) == sorted(p.content_hash() for p in PLATES[:2])
    assert len(filter_library(table, grids=["4×4"])) == 6  # 3 plates: 3 + 2 fast labels and the failed one
    assert len(filter_library(table, labelled_only=True)) == 7
    both = filter_library(table, spaces=["checkerboard"], modes=["I"], solver_keys=[FAST], grids=["4×4"])
    assert hashes(both) == plate_hashes and len(both) == 3
    assert len(filter_library(table, spaces=[], modes=None)) == len(table)  # empty: no filter


def test_sorting_by_a_metric_puts_empty_cells_last(library: Store) -> None:
    table = library_table(library)
    ranked = sort_library(table, "stiffness (MPa)")
    values = ranked["stiffness (MPa)"].to_numpy()
    known = values[~np.isnan(values)]
    assert len(known) == 6 and list(known) == sorted(known, reverse=True)
    assert np.isnan(values[len(known):]).all()
    assert list(sort_library(table, "stiffness (MPa)", descending=False)["stiffness (MPa)"].dropna()) == sorted(known)
    # mode II (shear) stiffness of a plate is below its mode I (tensile) stiffness: G < E for ν > 0
    for plate in PLATES[:2]:
        rows = table[table["design"] == plate.content_hash()].set_index("mode")
        assert rows.loc["II", "stiffness (MPa)"] < rows.loc["I", "stiffness (MPa)"]
    with pytest.raises(ValueError, match="cannot sort by 'strength'"):
        sort_library(table, "strength")


def test_csv_has_units_in_its_header_and_the_tables_values(library: Store) -> None:
    table = library_table(library)
    rows = list(csv.reader(io.StringIO(library_csv(table))))
    header = rows[0]
    assert header == list(LIBRARY_COLUMNS)
    assert {"stiffness (MPa)", "strength (MPa)", "toughness (MJ/m³)", "wall_time (s)",
            "energy_release_rate_per_stress_squared (mm/MPa)"} <= set(header)
    back = pd.read_csv(io.StringIO(library_csv(table)))
    assert len(back) == len(table) and list(back["design"]) == list(table["design"])  # full hashes
    assert np.allclose(back["stiffness (MPa)"], table["stiffness (MPa)"], equal_nan=True, rtol=1e-15)
    stamp = rows[1][header.index("added_at (UTC)")]
    assert pd.Timestamp(stamp) == table["added_at (UTC)"].iloc[0].floor("s")  # ISO 8601, UTC


def test_store_designs_by_space_and_hash_in_stored_order(library: Store, tmp_path: Path) -> None:
    records = library.designs()
    assert [r.hash for r in records] == [d.content_hash() for d in [*PLATES, HIER, HAND, HIER3, SPINODOID]]
    assert [r.hash for r in library.designs("spinodoid")] == [SPINODOID.content_hash()]
    assert library.designs(hashes=[HAND.content_hash(), "0" * 64])[0].genome == HAND.genome()
    assert library.designs(hashes=[]) == []
    many = Store(tmp_path)
    designs = [Checkerboard.random(6, seed=s) for s in range(1200)]
    many.add_designs(designs)
    wanted = [d.content_hash() for d in designs[::-1]]
    assert {r.hash for r in many.designs(hashes=wanted)} == set(wanted)  # more hashes than one query takes
    assert len(many.designs(space="checkerboard", hashes=wanted[:10])) == 10


def test_an_upload_stores_all_designs_or_none(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.add(PLATES[0])
    good = [{"space": d.space, "genome": d.genome()} for d in (PLATES[0], HIER, SPINODOID, HIER)]
    bad = [*good[:2], {"space": "checkerboard", "genome": {"grid": [[0, 9], [1, 0]]}}, good[2], 5]
    with pytest.raises(DesignFileError) as caught:
        add_design_file(store, json.dumps(bad), "bad.json")
    assert [p.number for p in caught.value.problems] == [3, 5]
    assert [r.hash for r in store.designs()] == [PLATES[0].content_hash()]  # nothing stored
    report = add_design_file(store, "\n".join(json.dumps(r) for r in good).encode(), "good.jsonl")
    assert report.designs == (PLATES[0].content_hash(), HIER.content_hash(), SPINODOID.content_hash())
    assert report.already_stored == (PLATES[0].content_hash(),) and report.repeated == 1
    assert report.new == (HIER.content_hash(), SPINODOID.content_hash())
    assert report.summary() == "3 designs: 2 new, 1 already in the store; 1 repeated record in the file counted once."
    assert store.count_designs() == 3
    with pytest.raises(DesignFileError, match=f"at most {MAX_UPLOAD_BYTES:,} bytes"):
        add_design_file(store, b" " * (MAX_UPLOAD_BYTES + 1))


def test_exported_designs_upload_again_as_the_same_designs(library: Store, tmp_path: Path) -> None:
    hashes = [r.hash for r in library.designs()]
    text = designs_json(library, hashes[::-1] + hashes[:2])  # any order; repeats written once
    fresh = Store(tmp_path / "fresh.sqlite")
    report = add_design_file(fresh, text)
    assert report.new == tuple(hashes[::-1]) and not report.already_stored
    assert {(r.hash, r.space, json.dumps(r.genome, sort_keys=True)) for r in fresh.designs()} == {
        (r.hash, r.space, json.dumps(r.genome, sort_keys=True)) for r in library.designs()}
    file = tmp_path / "designs.json"
    file.write_text(text)
    assert [d.content_hash() for d in read_designs(file)] == hashes[::-1]  # what `matloop label FILE` reads
    with pytest.raises(ValueError, match="not in the store: 000000000000"):
        designs_json(library, ["0" * 64])


def _bodies(data: bytes) -> dict[str, trimesh.Trimesh]:
    scene = trimesh.load(io.BytesIO(data), file_type="3mf")
    return {name: geometry for name, geometry in scene.geometry.items()}


def test_plates_zip_holds_a_3mf_of_the_right_size_per_plate(tmp_path: Path) -> None:
    store = Store(tmp_path)
    # 2 rows × 3 columns; soft (0) blocks only in the right column: x from 2 to 3 block edges
    column = Checkerboard(((1, 1, 0), (1, 1, 0)))
    store.add_designs([column, HIER, SPINODOID])
    edge, thickness = 2.5, 1.2
    archive = plates_zip(store, [column.content_hash(), SPINODOID.content_hash(), HIER.content_hash()], edge,
                         thickness)
    assert archive.plates == (column.content_hash(), HIER.content_hash())
    assert archive.skipped == (SPINODOID.content_hash(),)
    with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
        names = set(zipped.namelist())
        stem = f"plate-{column.content_hash()[:12]}"
        assert {f"{stem}.3mf", f"{stem}-soft.stl", f"{stem}-stiff.stl", "designs.json", "README.txt"} <= names
        bodies = _bodies(zipped.read(f"{stem}.3mf"))
        assert set(bodies) == {"soft", "stiff"}
        plate = trimesh.util.concatenate(list(bodies.values()))
        assert np.allclose(plate.bounds, [[0, 0, 0], [3 * edge, 2 * edge, thickness]])  # columns × rows × t
        assert np.allclose(bodies["soft"].bounds, [[2 * edge, 0, 0], [3 * edge, 2 * edge, thickness]])
        assert bodies["soft"].volume == pytest.approx(2 * edge**2 * thickness)
        assert bodies["stiff"].volume == pytest.approx(4 * edge**2 * thickness)
        stl = trimesh.load(io.BytesIO(zipped.read(f"{stem}-stiff.stl")), file_type="stl")
        assert np.allclose(stl.bounds, [[0, 0, 0], [2 * edge, 2 * edge, thickness]])
        assert stl.is_watertight and stl.volume == pytest.approx(4 * edge**2 * thickness)
        # the hierarchical 2×2 coarse grid prints as its 4×4 soft/stiff blocks, half soft
        fine = _bodies(zipped.read(f"plate-{HIER.content_hash()[:12]}.3mf"))
        assert np.allclose(trimesh.util.concatenate(list(fine.values())).bounds,
                           [[0, 0, 0], [4 * edge, 4 * edge, thickness]])
        assert fine["soft"].volume == pytest.approx(8 * edge**2 * thickness)
        assert [d.content_hash() for d in read_designs_text(zipped.read("designs.json"), tmp_path)] == list(
            archive.plates)
        assert "block edge 2.5 mm, thickness 1.2 mm" in zipped.read("README.txt").decode()


def read_designs_text(data: bytes, folder: Path) -> list:
    file = folder / "zipped-designs.json"
    file.write_bytes(data)
    return read_designs(file)


@pytest.mark.parametrize(("edge", "thickness", "message"), [
    (0.4, 2.0, "the block edge must be a number of millimetres from 0.5 to 50 mm, got 0.4"),
    (51, 2.0, "block edge must be a number of millimetres from 0.5 to 50 mm, got 51"),
    (5.0, 0.1, "the thickness must be a number of millimetres from 0.2 to 50 mm, got 0.1"),
    (5.0, float("nan"), "thickness must be a number of millimetres from 0.2 to 50 mm, got nan"),
    (True, 2.0, "got True"),
])
def test_plate_sizes_out_of_range_are_refused_not_replaced(tmp_path: Path, edge: float, thickness: float,
                                                          message: str) -> None:
    store = Store(tmp_path)
    store.add(HAND)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        plates_zip(store, [HAND.content_hash()], edge, thickness)
    assert check_plate_size(0.5, 50) == (0.5, 50.0)  # the ends are allowed


def test_plates_zip_refuses_what_it_cannot_print(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.add_designs([HAND, SPINODOID])
    with pytest.raises(ValueError, match="none of the selected designs is a block plate"):
        plates_zip(store, [SPINODOID.content_hash()], 5.0, 2.0)
    with pytest.raises(ValueError, match="plate formats must be some of 3mf, stl"):
        plates_zip(store, [HAND.content_hash()], 5.0, 2.0, formats=("obj",))
    only_stl = plates_zip(store, [HAND.content_hash()], 5.0, 2.0, formats=("stl",))
    assert not any(n.endswith(".3mf") for n in zipfile.ZipFile(io.BytesIO(only_stl.data)).namelist())


def test_stored_curves_are_the_labels_curves_in_the_rows_order(tmp_path: Path) -> None:
    """Curves come from the labels that hold one (strength/full), matched row by row; fast labels and
    labels stored before curves were kept have none."""
    store = Store(tmp_path)
    strength, fast = fracture_key("strength", {}), fracture_key("fast", {})
    curves = {}
    for k, plate in enumerate(PLATES):
        strain = np.linspace(0.0, 0.01 * (k + 1), 5)
        curves[plate.content_hash()] = (strain, 1000.0 * strain)
        metrics = {"mode": "I", "stiffness": 1000.0, "curve": {"strain": strain.tolist(), "stress": (1000.0 * strain).tolist()}}
        store.put_label(store.add(plate), strength, metrics if k < 2 else {"mode": "I", "stiffness": 1.0})
        store.put_label(plate.content_hash(), fast, {"mode": "I", "stiffness": 2.0})
    rows = library_table(store).iloc[::-1]
    found = stored_curves(store, rows)
    assert [c["design"] for c in found] == [p.content_hash() for p in PLATES[:2]][::-1]
    for curve in found:
        strain, stress = curves[curve["design"]]
        np.testing.assert_array_equal(curve["strain"], strain)
        np.testing.assert_array_equal(curve["stress"], stress)
        assert (curve["fidelity"], curve["mode"]) == ("strength", "I")
