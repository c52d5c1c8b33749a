"""The matloop command line: help, doctor, jobs; bad input gives one error line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.store import Store
from engine.store.schema import SCHEMA_VERSION

MATLOOP = [sys.executable, "-m", "engine.cli"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATLOOP_")}
    return subprocess.run([*MATLOOP, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("doctor", "store", "jobs"):
        assert command in result.stdout


def test_doctor_creates_the_default_store_and_reports(tmp_path: Path) -> None:
    result = run_cli("doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "runs" / "matloop.sqlite").is_file()
    for needle in ("torch", "scikit-fem", "device     cpu" if "cuda" not in result.stdout else "cuda",
                   "executor   local", f"schema v{SCHEMA_VERSION}", "integrity  ok",
                   "threads    torch", "intra-op"):
        assert needle in result.stdout


def test_jobs_run_list_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "s.sqlite")
    assert main(["--store", store, "jobs", "run", "demo", "steps=3", "size=50"]) == 0
    (job,) = Store(store).jobs()
    assert job.status == "done" and job.params == {"steps": 3, "size": 50}
    assert main(["--store", store, "jobs"]) == 0
    assert main(["--store", store, "jobs", "show", job.id[:8]]) == 0
    assert main(["--store", store, "jobs", "cancel", job.id]) == 0
    assert main(["--store", store, "jobs", "show", "ffff"]) == 2
    out, err = capsys.readouterr()
    assert job.id[:12] in out and '"status": "done"' in out and "already done" in out
    assert "no job with id starting 'ffff'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "threads", "doctor"], "unknown executor 'threads'; allowed: 'local'"),
        (["--store", "/nonexistent/dir/s.sqlite", "doctor"], "store directory /nonexistent/dir does not exist"),
        (["--store", "/sys/s.sqlite", "doctor"], "is not writable"),
        (["--device", "tpu", "doctor"], "unknown device 'tpu'"),
        (["jobs", "run", "demo", "steps"], "not of the form KEY=VALUE"),
        (["jobs", "show", "ffff"], "no store at"),
    ],
)
def test_bad_input_gives_one_clear_error_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matloop: error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_corrupt_store_file_is_one_error_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.sqlite"
    corrupt.write_bytes(b"\x00garbage" * 64)
    result = run_cli("--store", str(corrupt), "jobs", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"matloop: error: {corrupt} is not a usable matloop store (SQLite: file is not a database); "
        "the file is corrupt or of another kind: move it away or choose another path"
    ]
