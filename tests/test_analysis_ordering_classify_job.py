"""The identify-structures job and staged uploads, run in-process against generated truth."""

from __future__ import annotations

from pathlib import Path

import freud
import numpy as np
import pandas as pd
import pytest

from engine.analysis.ordering import ParticleSystem
from engine.analysis.ordering.classify_job import classify_order_job, stage_upload
from engine.analysis.ordering.configurations import generate, write_configuration
from engine.runtime.jobkinds import job_function
from engine.runtime.jobs import run_job
from engine.store import Store


def _run(store: Store, params: dict) -> dict:
    job_id = store.create_job("identify-structures", params)
    status = run_job(store, job_id, job_function("identify-structures"), params)
    job = store.get_job(job_id)
    assert status == "done", job.error
    return job.result


def test_job_classifies_a_generated_mixture_and_writes_the_table(store_dir: Path) -> None:
    assert job_function("identify-structures") is classify_order_job
    store = Store(store_dir)
    result = _run(store, {"source": {"generate": {"kind": "fcc-hcp", "cells": 4}}, "method": "mlp"})
    table = pd.read_csv(result["path"])
    assert Path(result["path"]).parent == store_dir / "ordering" and len(table) == result["n_particles"] == 768
    assert result["agreement"] == pytest.approx(np.mean(table.label == table.true_label))
    assert result["agreement"] >= 0.95 and sum(result["fractions"].values()) == pytest.approx(1.0)
    assert result["kind"] == "supervised" and result["embedding_axes"] is None


def test_staged_upload_is_kept_by_content_and_classified(store_dir: Path, tmp_path: Path) -> None:
    store = Store(store_dir)
    data = write_configuration(generate("fcc-hcp", cells=4, seed=1), tmp_path / "mix.csv").read_bytes()
    path, system = stage_upload(store.path, "my mix.csv", data)
    assert path.parent == store_dir / "ordering" / "uploads" and path.read_bytes() == data
    assert stage_upload(store.path, "again.csv", data)[0] == path  # same content, same file
    result = _run(store, {"source": {"file": str(path)}, "method": "dbscan", "options": {"neighbors": 12}})
    assert result["n_particles"] == system.n_particles and result["ari"] >= 0.9
    assert result["embedding_axes"] == ["principal component 1", "principal component 2"]


def test_a_bad_job_fails_with_the_reason(store_dir: Path) -> None:
    store = Store(store_dir)
    params = {"source": {"generate": {"kind": "lattice", "structure": "sc", "cells": 2}}, "method": "mlp"}
    job_id = store.create_job("identify-structures", params)
    assert run_job(store, job_id, classify_order_job, params) == "failed"
    assert "at least 15 particles; the system has 8" in store.get_job(job_id).error
    with pytest.raises(ValueError, match=r"unknown configuration format 'pdb'; allowed: \.xyz, \.csv"):
        stage_upload(store.path, "x.pdb", b"")


def test_a_one_class_truth_reports_the_largest_cluster_share(store_dir: Path) -> None:
    store = Store(store_dir)
    result = _run(store, {"source": {"generate": {"kind": "lattice", "structure": "fcc", "cells": 5}},
                          "method": "dbscan", "options": {}})
    assert "ari" not in result and 0.9 <= result["largest_cluster_share"] <= 1.0


def test_the_result_records_the_box_tilt_factors(store_dir: Path, tmp_path: Path) -> None:
    crystal = generate("lattice", structure="fcc", cells=4, seed=0)
    L = np.asarray(crystal.box.L)
    sheared = ParticleSystem(crystal.positions, freud.box.Box(*L, xy=0.25, xz=0.0, yz=-0.1), labels=crystal.labels)
    path, _ = stage_upload(store_dir, "sheared.csv", write_configuration(sheared, tmp_path / "s.csv").read_bytes())
    result = _run(Store(store_dir), {"source": {"file": str(path)}, "method": "q6-threshold"})
    assert result["box"]["tilt"] == pytest.approx([0.25, 0.0, -0.1])
    assert result["box"]["L"] == pytest.approx(L.tolist())
