"""Campaign store: identity by content hash, no double labels, concurrency, migration, bad files."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from designs.base import content_hash
from engine.evaluators.fracture import fracture_key
from engine.store import SolverKey, Store, StoreError, resolve_store_path
from engine.store.migration_v3 import resolve_phasefield_v2
from engine.store.schema import MIGRATIONS, SCHEMA_VERSION
from support_data import DATA_DIR
from support_tasks import VectorDesign

KEY = SolverKey("toy", "1", "exact", {"mesh": 8})


def test_project_directory_holds_one_wal_file(store_dir: Path) -> None:
    store = Store(store_dir)
    assert store.path == store_dir / "matloop.sqlite"
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert resolve_store_path(store_dir / "other.db") == store_dir / "other.db"


def test_duplicate_designs_are_recognised_by_hash(store_dir: Path) -> None:
    store = Store(store_dir)
    a = store.add_design("grid", {"cells": [[0, 1], [1, 0]], "palette": ["soft", "stiff"]})
    # Same content, keys in another order: same canonical encoding, same hash.
    b = store.add_design("grid", {"palette": ["soft", "stiff"], "cells": [[0, 1], [1, 0]]})
    c = store.add_design("grid", {"cells": [[1, 0], [0, 1]], "palette": ["soft", "stiff"]})
    d = store.add(VectorDesign((1.0, 2.0)))
    assert a == b != c
    assert d == VectorDesign((1.0, 2.0)).content_hash() == content_hash("vector", [1.0, 2.0])
    assert store.count_designs() == 3
    assert store.count_designs("grid") == 2
    assert store.get_design(a) == ("grid", {"cells": [[0, 1], [1, 0]], "palette": ["soft", "stiff"]})


def test_a_design_is_labelled_once_per_solver_configuration(store_dir: Path) -> None:
    store = Store(store_dir)
    h = store.add_design("vector", [3.0, 4.0])
    first = store.put_label(h, KEY, {"norm": 5.0}, wall_time=0.1)
    assert first
    assert not store.put_label(h, KEY, {"norm": -1.0})  # first label wins
    assert store.get_label(h, KEY).metrics == {"norm": 5.0}
    finer = SolverKey("toy", "1", "exact", {"mesh": 16})
    other_fidelity = SolverKey("toy", "1", "fast", {"mesh": 8})
    assert store.put_label(h, finer, {"norm": 5.0})
    assert store.put_label(h, other_fidelity, {"status_note": "x"})
    assert store.labelled_hashes(KEY) == {h}
    assert len(store.labels()) == 3
    assert store.status().labels_ok == 3


def test_failed_labels_keep_their_reason(store_dir: Path) -> None:
    store = Store(store_dir)
    h = store.add_design("vector", [1.0])
    with pytest.raises(StoreError, match="needs a reason"):
        store.put_label(h, KEY, {}, status="failed")
    assert store.put_label(h, KEY, {}, status="failed", reason="did not converge in 50 steps")
    (label,) = store.labels(KEY, status="failed")
    assert label.reason == "did not converge in 50 steps"
    with pytest.raises(StoreError, match="unknown design"):
        store.put_label("0" * 64, KEY, {"x": 1})
    with pytest.raises(StoreError, match="not JSON"):
        store.put_label(h, SolverKey("toy", "2", "exact"), {"x": float("nan")})


def test_campaigns_models_and_jobs(store_dir: Path, tmp_path: Path) -> None:
    store = Store(store_dir)
    cid = store.create_campaign("first", {"space": "vector", "budget": 10})
    with pytest.raises(StoreError, match="already exists"):
        store.create_campaign("first", {})
    hashes = store.add_designs([("vector", [float(i)]) for i in range(3)])
    store.add_to_campaign(cid, hashes)
    store.add_to_campaign(cid, hashes[:1])
    store.set_campaign_state(cid, "running")
    (campaign,) = store.campaigns()
    assert campaign["state"] == "running" and campaign["designs"] == 3
    assert store.campaign_designs(cid) == hashes

    weights = tmp_path / "model.pt"
    weights.write_bytes(b"\x00weights")
    mid = store.register_model("cnn", "grid-cnn", weights, {"r2": 0.9}, campaign_id=cid)
    (model,) = store.models()
    assert model["id"] == mid and len(model["weights_hash"]) == 64

    job = store.create_job("demo", {"steps": 3})
    store.start_job(job)
    store.update_job(job, 1.7, "clamped")
    assert store.get_job(job).progress == 1.0
    store.request_cancel(job)
    assert store.cancel_requested(job)
    store.finish_job(job, "cancelled")
    assert store.get_job(job).finished


def test_orphaned_running_jobs_are_marked_failed(store_dir: Path) -> None:
    store = Store(store_dir)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    job = store.create_job("demo", {})
    store.start_job(job, owner_pid=int(dead.stdout))
    alive = store.create_job("demo", {})
    store.start_job(alive)
    assert store.mark_orphaned_jobs() == 1
    assert store.get_job(job).status == "failed"
    assert "interrupted" in store.get_job(job).error
    assert store.get_job(alive).status == "running"


def test_concurrent_writer_processes_lose_nothing(store_dir: Path) -> None:
    store = Store(store_dir)
    start_at = time.time() + 2.0
    script = Path(__file__).parent / "support_writer.py"
    # Two writers, 300 designs each, overlapping in 150 designs.
    procs = [
        subprocess.Popen([sys.executable, str(script), str(store.path), str(first), "300", str(start_at)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for first in (0, 150)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    inserted = [int(out) for out, _ in outputs]
    assert sum(inserted) == 450  # every design labelled exactly once, whoever got there first
    status = store.status()
    assert status.designs == 450 and status.labels_ok == 450
    assert status.jobs == 60  # 30 per writer, none lost
    assert all(job.status == "done" for job in store.jobs(limit=100))
    from support_writer import KEY as WRITER_KEY

    labels = store.labels(WRITER_KEY)
    assert sorted(label.metrics["double"] for label in labels) == [2 * i for i in range(450)]
    assert store.integrity_check() == "ok"


def test_migration_from_version_1_keeps_data(store_dir: Path) -> None:
    path = store_dir / "old.sqlite"
    raw = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[1](raw)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO meta VALUES ('application', 'matloop')")
    raw.execute("INSERT INTO designs VALUES ('h1', 'vector', '[1.0]', 0)")
    raw.execute("INSERT INTO jobs(id, kind, params, status, created_at) VALUES ('j1', 'demo', '{}', 'done', 0)")
    raw.close()
    store = Store(path, create=False)
    assert store.status().schema_version == SCHEMA_VERSION == 7
    assert store.get_design("h1") == ("vector", [1.0])
    job = store.get_job("j1")
    assert job.result is None and job.owner_pid is None  # columns added by version 2


def test_newer_schema_is_refused(store_dir: Path) -> None:
    store = Store(store_dir)
    with sqlite3.connect(store.path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this matloop"):
        Store(store_dir)


def test_corrupt_and_foreign_files_give_clear_errors(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable matloop store.*not a database"):
        Store(corrupt)
    assert corrupt.read_bytes().startswith(b"this is not a database")  # nothing overwritten

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as raw:
        raw.execute("CREATE TABLE customers(id INTEGER)")
    with pytest.raises(StoreError, match="not a matloop store"):
        Store(foreign)


def test_missing_and_read_only_directories_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing" / "store.sqlite")
    with pytest.raises(StoreError, match="no store at"):
        Store(tmp_path, create=False)
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        if os.access(read_only, os.W_OK):
            # Running as root: permission bits do not stop writes. sysfs refuses new files to
            # everyone, so it stands in for a read-only directory.
            read_only = Path("/sys")
        with pytest.raises(StoreError, match="not writable"):
            Store(read_only / "store.sqlite")
    finally:
        (tmp_path / "ro").chmod(0o755)


#: A store written by the release before schema 3 (see tests/data/stores/PROVENANCE.md): three
#: designs labelled fast through the API with ``{}`` and again through the CLI with its explicit
#: defaults (two keys for one physics), two mode-II fast labels, one strength label on a coarse
#: mesh, one homogenisation label and one finished job.
PREVIOUS_RELEASE_STORE = DATA_DIR / "stores" / "matloop-v2.sqlite"


def v2_key(fidelity: str, options: dict) -> SolverKey:
    """Key of a label of fracture solver version 2 in a store of schema 3 (options resolved)."""
    return SolverKey("phasefield-at2", "2", fidelity, resolve_phasefield_v2(options, fidelity))


def _raw_labels(path: Path, table: str = "labels") -> list[dict]:
    with sqlite3.connect(path) as raw:
        raw.row_factory = sqlite3.Row
        return [dict(row) for row in raw.execute(f"SELECT * FROM {table} ORDER BY id")]


def test_store_of_the_previous_release_migrates_and_its_labels_are_found_by_the_new_keys(tmp_path: Path) -> None:
    import json
    from concurrent.futures import ThreadPoolExecutor

    from designs.registry import design_from_record
    from engine.evaluators.fracture import label_fracture_batch

    path = tmp_path / "matloop.sqlite"
    shutil.copy(PREVIOUS_RELEASE_STORE, path)
    before = _raw_labels(path)
    assert len(before) == 10 and {row["config"] for row in before if row["fidelity"] == "fast"} == {
        "{}", '{"elements_per_block":8,"mode":"I","plane":"stress"}',
        '{"elements_per_block":8,"mode":"II","plane":"stress"}'}

    store = Store(tmp_path, create=False)
    assert store.status().schema_version == SCHEMA_VERSION
    fast = store.labels(v2_key("fast", {}))
    assert len(fast) == 3 and store.labels(v2_key("fast", {"mode": "I", "plane": "stress"})) == fast
    assert len(store.labels(v2_key("fast", {"mode": "II"}))) == 2
    assert len(store.labels(v2_key("strength", {"elements_per_block": 2}))) == 1
    # homogenisation keys were already complete: untouched (version 1.2 of that solver)
    assert len(store.labels(SolverKey("matloop-voxel-amg", "1.2", "voxel-24",
                                      {"E": 1.0, "bc": "affine", "nu": 0.3, "resolution": 24}))) == 1
    assert not store.labels(fracture_key("fast", {}))  # a later solver version: labelled anew

    # nothing lost, nothing recomputed: every old row is a label or a superseded duplicate, with
    # its numbers, id and time; the duplicates point at the older label of the same design
    after = {row["id"]: row for row in _raw_labels(path)}
    superseded = _raw_labels(path, "labels_superseded")
    assert sorted([*after, *(row["id"] for row in superseded)]) == [row["id"] for row in before]
    renames = {"energy_release_rate": "energy_release_rate_per_stress_squared", "k_tip": "stress_intensity_per_stress"}
    for old in before:
        if old["id"] in after:
            new = after[old["id"]]
            # stored columns the migration must carry over unchanged (values read back, not timed)
            kept = ("design_hash", "status", "created_at", "wall_time")
            assert {c: new[c] for c in kept} == {c: old[c] for c in kept}
            assert json.loads(new["metrics"]) == {renames.get(k, k): v for k, v in json.loads(old["metrics"]).items()}
    for dup in superseded:
        kept = after[dup["superseded_by"]]
        assert kept["design_hash"] == dup["design_hash"] and kept["id"] < dup["id"]
        assert dup["config"] == '{"elements_per_block":8,"mode":"I","plane":"stress"}'  # archived as stored

    # solver version 3 changed the answers: labelling the same designs again through the API labels
    # them anew under the new key and keeps the version-2 labels
    designs = [design_from_record(*store.get_design(label.design_hash)) for label in fast]
    with ThreadPoolExecutor(1) as executor:
        report = label_fracture_batch(store, designs, "fast", {"plane": "stress"}, executor)
    assert (report.already_labelled, report.newly_labelled) == (0, 3)
    assert store.labels(v2_key("fast", {})) == fast
    assert store.integrity_check() == "ok"


def _old_store(path: Path, labels: list[tuple[str, str, str, str]], models: list[tuple[str, str]] = ()) -> None:
    """A schema-2 store holding fast fracture labels ``(design, config, config_hash or '', metrics)``."""
    raw = sqlite3.connect(path, isolation_level=None)
    for version in (1, 2):
        MIGRATIONS[version](raw)
    raw.execute("PRAGMA user_version = 2")
    raw.execute("INSERT INTO meta VALUES ('application', 'matloop')")
    for design in sorted({row[0] for row in labels}):
        raw.execute("INSERT INTO designs VALUES (?, 'checkerboard', '{}', 0)", (design,))
    for number, (design, config, config_hash, metrics) in enumerate(labels):
        raw.execute(
            "INSERT INTO labels(design_hash, solver, solver_version, fidelity, config_hash, config, status, "
            "metrics, created_at) VALUES (?, 'phasefield-at2', '2', 'fast', ?, ?, 'ok', ?, ?)",
            (design, config_hash or SolverKey("x", "1", "x", _json_or_raw(config)).config_hash, config, metrics, number),
        )
    for name, metrics in models:
        raw.execute("INSERT INTO models(name, kind, path, weights_hash, metrics, created_at) VALUES (?, 'k', 'p', 'h', ?, 0)",
                    (name, metrics))
    raw.close()


def _json_or_raw(text: str) -> object:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def test_migration_leaves_rows_it_cannot_read_alone_and_loses_nothing(tmp_path: Path) -> None:
    import json

    mode_two = SolverKey("x", "1", "x", {"mode": "II"}).config_hash
    _old_store(tmp_path / "old.sqlite", [
        ("a", "{}", "", '{"stiffness": 1.0, "energy_release_rate": 2.0}'),
        ("a", '{"end_fraction": 0.3}', "", '{"stiffness": 1.0}'),  # cannot change a fast label: a duplicate
        ("b", '{"elements_per_block": null}', "", '{"stiffness": 3.0}'),  # unreadable options
        ("c", "null", "", '{"stiffness": 4.0}'),
        ("d", '{"mode": "II"}', "", "[]"),  # unreadable metrics, readable key
        ("e", "{}", mode_two, '{"stiffness": 5.0}'),  # schema 1 kept only the hash: options unknown
        ("f", "{}", "", '{"energy_release_rate": 6.0, "energy_release_rate_per_stress_squared": 7.0}'),
    ], [("linear regression energy_release_rate", '{"target": "energy_release_rate"}'), ("odd", "[]")])
    before = _raw_labels(tmp_path / "old.sqlite")
    store = Store(tmp_path / "old.sqlite", create=False)
    after = {row["design_hash"]: row for row in _raw_labels(store.path)}
    old = {row["id"]: row for row in before}
    for design in ("b", "c", "e"):  # left exactly as they were
        assert after[design] == next(row for row in before if row["design_hash"] == design)
    default, mode_ii = v2_key("fast", {}), v2_key("fast", {"mode": "II"})
    assert [label.design_hash for label in store.labels(default)] == ["a", "f"]
    assert store.get_label("a", default).metrics == {"stiffness": 1.0, "energy_release_rate_per_stress_squared": 2.0}
    assert store.get_label("f", default).metrics == {"energy_release_rate": 6.0, "energy_release_rate_per_stress_squared": 7.0}
    assert after["d"]["config_hash"] == mode_ii.config_hash and after["d"]["metrics"] == "[]"
    (duplicate,) = _raw_labels(store.path, "labels_superseded")
    assert old[duplicate["id"]]["config"] == '{"end_fraction": 0.3}' and duplicate["superseded_by"] == after["a"]["id"]
    names = {m["name"]: m["metrics"] for m in store.models()}
    assert names["linear regression energy_release_rate_per_stress_squared"] == {
        "target": "energy_release_rate_per_stress_squared"}
    assert json.dumps(names["odd"]) == "[]"


def test_a_store_a_migration_cannot_read_is_refused_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.store import migration_v3

    _old_store(tmp_path / "old.sqlite", [("a", "{}", "", '{"stiffness": 1.0}')])
    before = _raw_labels(tmp_path / "old.sqlite")

    def broken(config: object, fidelity: str) -> dict:
        raise TypeError("unexpected data")

    monkeypatch.setattr(migration_v3, "resolve_phasefield_v2", broken)
    with pytest.raises(StoreError, match="cannot bring store .* up to date .*TypeError: unexpected data.* unchanged"):
        Store(tmp_path / "old.sqlite", create=False)
    assert _raw_labels(tmp_path / "old.sqlite") == before
    with sqlite3.connect(tmp_path / "old.sqlite") as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
