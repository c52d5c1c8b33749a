"""Guard rails: jobs that cannot fit this machine are refused with their estimate, and a cancel
reaches the solver inside a load step (issue 16, must-show 5).

The memory estimates (:mod:`fem.cost`) are checked against the peak resident memory of a real
solve in a fresh process (``VmHWM``); "the largest allowed problem" is made small with the documented
``MATLOOP_MEMORY_BUDGET`` so that it runs in a test (``tests/benchmarks/bench_cancel.py`` times
the cancel of the real largest plate of this machine). The pages' refusals are in
``tests/test_ui_guard_rails.py`` (AppTest runs the app as ``__main__``, which later process
pools in the same session would re-import: UI tests run last).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from designs.spinodal import Spinodoid
from engine.campaigns.config import CampaignConfig
from engine.cli import main
from engine.evaluators.fracture import FractureEvaluator, label_fracture_job
from engine.evaluators.spinodoid import HomogenizationEvaluator, check_stl_export
from engine.runtime.cpus import available_cpus, cgroup_cpu_limit
from engine.runtime.jobs import JobCancelled, run_job
from engine.runtime.resources import ENV_MEMORY_BUDGET, MEMORY_FRACTION, memory_budget, parse_size
from engine.store import Store
from fem import fracture, homogenize
from fem.cost import Cost, plate_cost, voxel_cost
from fem.interrupt import interruptible
from fem.phasefield import SolverOptions, solve_phasefield

DESIGN = Checkerboard.random(8, soft_fraction=0.5, seed=0)

PEAK = r"""
import json, sys
import engine.runtime.worker  # noqa: F401 - a job's worker process, which then imports the kind's evaluator
kind, size = sys.argv[1], int(sys.argv[2])
if kind == "plate":
    from engine.evaluators.fracture import FractureEvaluator
    from designs.checkerboard import Checkerboard
    evaluator = FractureEvaluator.from_options("strength", {"elements_per_block": size, "max_strain": 0.03})
    evaluation = evaluator(Checkerboard.random(8, soft_fraction=0.5, seed=0))
else:
    from engine.evaluators.spinodoid import HomogenizationEvaluator
    from designs.spinodal import Spinodoid
    evaluation = HomogenizationEvaluator(size)(Spinodoid(rho=0.9, seed=0))
peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps([peak, evaluation.status]))
"""


def _peak(kind: str, size: int) -> tuple[float, str]:
    """Peak resident memory (B) of a fresh process that runs one solve, and its status.

    The peak is ``VmHWM`` of ``/proc/self/status``, the high-water mark of the process's own
    memory: ``getrusage``'s ``ru_maxrss`` keeps that of the forking parent (pytest with the app
    imported, 400 MB) across ``exec``.
    """
    out = subprocess.run([sys.executable, "-c", PEAK, kind, str(size)], capture_output=True, text=True, check=True,
                         timeout=300)
    peak, status = json.loads(out.stdout.strip().splitlines()[-1])
    return float(peak), status


@pytest.mark.parametrize(("elements_per_block", "nx", "ny"), [(8, 64, 64), (16, 128, 128)])
def test_plate_memory_estimate_covers_the_measured_peak(elements_per_block: int, nx: int, ny: int) -> None:
    """The estimate is what a real solve holds at its peak (getrusage of a fresh process), within 25 %, above it."""
    peak, status = _peak("plate", elements_per_block)
    assert status == "ok"
    estimate = plate_cost(nx, ny).memory
    assert peak <= estimate <= 1.25 * peak, (estimate / 2**20, peak / 2**20)


def test_voxel_memory_estimate_covers_the_measured_peak() -> None:
    peak, status = _peak("voxel", 48)
    assert status == "ok"
    estimate = voxel_cost(48, "affine").memory
    assert peak <= estimate <= 1.25 * peak, (estimate / 2**20, peak / 2**20)


def test_the_budget_is_half_the_available_memory_unless_the_environment_sets_it() -> None:
    import psutil

    budget = memory_budget({})
    assert budget.bytes == pytest.approx(MEMORY_FRACTION * psutil.virtual_memory().available, rel=0.1)
    assert "available" in budget.source and ENV_MEMORY_BUDGET in budget.source
    assert memory_budget({ENV_MEMORY_BUDGET: "1.5GB"}).bytes == 1.5 * 2**30
    assert [parse_size(t) for t in ("16GB", "500 MB", "2GiB", "123456", "1e3kb")] == [
        16 * 2**30, 500 * 2**20, 2 * 2**30, 123456, 1000 * 2**10]
    for bad in ("", "lots", "-5GB", "0", "5 parsecs"):
        with pytest.raises(ValueError, match="MATLOOP_MEMORY_BUDGET must be a positive size"):
            parse_size(bad)


# ----------------------------------------------------------------------------- must-show 5
def _cost(elements_per_block: int) -> Cost:
    return FractureEvaluator.from_options("strength", {"elements_per_block": elements_per_block}).cost(DESIGN)


def _budget_between(elements_per_block: int) -> str:
    """A budget that lets the 8×8 plate run with ``elements_per_block`` but not with one more."""
    allowed, beyond = _cost(elements_per_block).memory, _cost(elements_per_block + 1).memory
    assert allowed < beyond
    return str(int(0.5 * (allowed + beyond)))


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The largest plate allowed is the 8×8 design at 8 elements per block (64 × 64 elements)."""
    monkeypatch.setenv(ENV_MEMORY_BUDGET, _budget_between(8))
    allowed = {"elements_per_block": 8}
    beyond = {"elements_per_block": 9}
    FractureEvaluator.from_options("strength", allowed).check_design(DESIGN)  # the largest allowed passes
    return {"allowed": allowed, "beyond": beyond}


def test_the_largest_allowed_plate_starts_and_a_cancel_stops_it_inside_the_load_step(
        small_budget: dict, tmp_path: Path) -> None:
    """The job runs through the same path as the app's; the cancel is requested from inside load
    step 2 (at the first heartbeat after step 1 was reported) and the solver stops at its next
    heartbeat: step 2 is never reported, one check after the request was enough, nothing is stored."""
    store = Store(tmp_path)
    params = {"space": "checkerboard", "genome": DESIGN.genome(), "fidelity": "strength",
              "options": small_budget["allowed"]}
    calls: list[str] = []
    seen = {"requested_at": None}

    def job(ctx, **kwargs):  # noqa: ANN001, ANN003 - a job function
        ctx.min_interval = 0.0  # every progress call reads the cancel flag: the counts below are exact
        report = ctx.progress

        def progress(fraction: float, message: str = "") -> None:
            repeat = bool(calls) and message == calls[-1]
            calls.append(message)
            report(fraction, message)  # raises JobCancelled once the cancel was requested
            if repeat and message.startswith("step 1:") and seen["requested_at"] is None:
                store.request_cancel(job_id)  # inside load step 2: a heartbeat repeats step 1's report
                seen["requested_at"] = len(calls)

        ctx.progress = progress
        return label_fracture_job(ctx, **kwargs)

    job_id = store.create_job("label-fracture", params)
    assert run_job(store, job_id, job, params) == "cancelled"
    steps_reported = [m for m in calls if m.startswith("step ")]
    assert {m.split(":")[0] for m in steps_reported} == {"step 1"}  # one load step done, step 2 never finished
    assert seen["requested_at"] is not None
    assert len(calls) - seen["requested_at"] == 1  # stopped at the first check after the request
    assert store.get_job(job_id).message == "cancelled by the user"
    assert store.get_label(DESIGN.content_hash(), FractureEvaluator.from_options(
        "strength", small_budget["allowed"]).key()) is None


def test_one_step_beyond_is_refused_with_its_estimate_in_the_api(small_budget: dict) -> None:
    evaluator = FractureEvaluator.from_options("strength", small_budget["beyond"])
    with pytest.raises(ValueError) as refused:
        evaluator.check_design(DESIGN)
    message = str(refused.value)
    assert message.startswith(f"too large for this machine: {_cost(9).describe()}")
    assert _cost(9).describe().startswith("a 73 × 72 element plate (10,804 unknowns) needs about")
    assert f"more than the memory budget of {memory_budget()}" in message
    assert message.endswith("elements_per_block <= 8 fits on this 8×8 grid")


def test_one_step_beyond_is_refused_in_one_line_by_the_cli(small_budget: dict, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--store", str(tmp_path), "label", "--random", "1", "--size", "8", "--fidelity", "strength"]
    assert main([*args, "--elements-per-block", "9"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith("matloop: error: too large for this machine: a 73 × 72 element plate")
    assert "needs about" in err and f"{ENV_MEMORY_BUDGET}=" in err
    assert Store(tmp_path).jobs() == [] and Store(tmp_path).count_designs() == 0


# ----------------------------------------------------------------------------- the real machine
@pytest.mark.parametrize(("args", "needle"), [
    (["label", "--random", "1", "--size", "100000"], "a 100000 × 100000 element plate"),
    (["label", "--random", "1", "--space", "hierarchical", "--size", "600"], "a 1200 × 1200 element plate"),
    (["label", "--random", "1", "--size", "8", "--elements-per-block", "1000"], "a 8000 × 8000 element plate"),
    (["spinodoid", "homogenize", "--rho", "0.5", "--resolution", "256"], "a 256³ voxel cell"),
    (["spinodoid", "export-stl", "--rho", "0.5", "--periodic", "--tiles", "6", "--resolution", "512", "--out", "x.stl"],
     "an STL of 6³ cell(s) at 512 samples per cell side"),
])
def test_problems_too_large_for_this_machine_are_one_error_line(
        args: list[str], needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Today's tracebacks (numpy MemoryError) become one line with the estimate and the budget."""
    monkeypatch.delenv(ENV_MEMORY_BUDGET, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["--store", str(tmp_path), *args]) == 2
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"matloop: error: too large for this machine: {needle}")
    assert "needs about" in err and "of memory available now" in err
    assert not (tmp_path / "x.stl").exists()


def test_a_mesh_finer_than_the_solver_meshes_is_one_error_line_with_its_estimate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Beyond 1024 elements a side the mesh itself is refused (whatever the memory); the line
    says what it would cost."""
    assert main(["--store", str(tmp_path), "label", "--random", "1", "--size", "8", "--element-size", "1e-5"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("matloop: error: element_size 1e-05 mm needs 100000 elements per side of the 1 mm plate "
                          "(a 100000 × 100000 element plate (20,000,400,002 unknowns) needs about 111 TB of memory")
    assert "at most 1024 are allowed" in err


def test_spinodoid_resolutions_beyond_the_budget_are_refused_in_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MEMORY_BUDGET, "1GB")  # 48³ (1.15 GB) is the first one beyond: 32³ fits
    HomogenizationEvaluator(32).check_design(Spinodoid(rho=0.5))
    with pytest.raises(ValueError, match=r"a 48³ voxel cell .* needs about 1.15 GB .* at most 4\d voxels per side"):
        HomogenizationEvaluator(48).check_design(Spinodoid(rho=0.5))
    with pytest.raises(ValueError, match="an STL of 4³ cell"):
        check_stl_export(48, 4)


def test_a_campaign_whose_solves_do_not_fit_is_refused_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MEMORY_BUDGET, "100MB")
    config = {"space": "checkerboard", "strategy": "random", "objective": {"kind": "metric", "metrics": ["strength"]},
              "budget": 4, "batch_size": 2, "space_settings": {"rows": 16, "columns": 16},
              "evaluator": {"kind": "fracture", "fidelity": "strength", "options": {"elements_per_block": 8}}}
    with pytest.raises(ValueError, match=r"too large for this machine: a 129 × 128 element plate .*per_block <= 4 fits"):
        CampaignConfig.from_json(config).build()
    config["evaluator"]["options"] = {"elements_per_block": 4, "ell": 0.0625}
    CampaignConfig.from_json(config).build()  # 65 × 64 elements fit


# ----------------------------------------------------------------------------- heartbeats
def test_heartbeats_leave_the_phasefield_results_unchanged() -> None:
    """A run with a progress callback (heartbeats inside every step) gives the same numbers, bit
    for bit, as one without; the heartbeats come between the step reports."""
    pb, _ = fracture.build_problem(DESIGN, fracture.PlateSetup(ell=0.0625))
    opts = SolverOptions(stop="peak")
    calls: list[str] = []
    quiet = solve_phasefield(pb, opts)
    beating = solve_phasefield(pb, opts, lambda f, m: calls.append(m))
    for name in ("displacement", "force", "damage", "step_iterations"):
        np.testing.assert_array_equal(getattr(quiet, name), getattr(beating, name))
    assert (quiet.stagger_iterations, quiet.factorizations) == (beating.stagger_iterations, beating.factorizations)
    reports = [m for i, m in enumerate(calls) if i == 0 or m != calls[i - 1]]
    assert len(reports) == beating.steps + 2  # assembling, load step 1, then one per step
    assert len(calls) > len(reports) + beating.stagger_iterations  # every iteration beats, CG loops too
    fast_calls: list[str] = []
    quiet_fast = fracture.run(DESIGN, "fast", ell=0.0625).metrics
    beating_fast = fracture.run(DESIGN, "fast", ell=0.0625, progress=lambda f, m: fast_calls.append(m)).metrics
    assert {k: v for k, v in quiet_fast.items() if k != "wall_time"} == {
        k: v for k, v in beating_fast.items() if k != "wall_time"}
    assert fast_calls and fast_calls[0].startswith("one linear solve of the 33 × 32 element plate")


def test_a_raising_heartbeat_stops_a_homogenisation_and_quiet_results_are_unchanged() -> None:
    vox = Spinodoid(rho=0.5, seed=1).voxels(24)
    quiet = homogenize.homogenize(vox, bc="affine", rtol=1e-6)
    beats: list[int] = []
    beating = homogenize.homogenize(vox, bc="affine", rtol=1e-6, heartbeat=lambda: beats.append(1))
    np.testing.assert_array_equal(quiet.C, beating.C)
    assert len(beats) > quiet.iterations  # every block-CG iteration, and the stages before

    def stop_in_the_solve() -> None:
        beats.append(1)
        if len(beats) > 3:
            raise JobCancelled()

    beats.clear()
    with pytest.raises(JobCancelled):
        homogenize.homogenize(vox, bc="affine", rtol=1e-6, heartbeat=stop_in_the_solve)
    assert len(beats) == 4  # stopped at the first heartbeat that raised


def test_interruptible_gives_up_waiting_when_the_heartbeat_raises() -> None:
    """The work (here blocked on an event, standing for a factorisation) is left to its thread;
    the heartbeat's exception arrives while it still runs."""
    release, finished = threading.Event(), threading.Event()

    def work() -> int:
        release.wait()
        finished.set()
        return 1

    beats = []

    def heartbeat() -> None:
        beats.append(1)
        if len(beats) == 2:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        interruptible(work, heartbeat, poll=0.01)
    assert not finished.is_set() and len(beats) == 2
    release.set()
    assert interruptible(lambda: 7, heartbeat=None) == 7
    with pytest.raises(ZeroDivisionError):
        interruptible(lambda: 1 / 0, heartbeat=lambda: None)


def test_usable_cores_follow_the_affinity_mask_and_a_container_quota(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path) is None  # no cgroup files: no quota
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # docker --cpus 1.5
    assert cgroup_cpu_limit(tmp_path) == 2
    (tmp_path / "cpu.max").write_text("garbage\n")
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")  # cgroup v1, one core
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path) == 1 and available_cpus(tmp_path) == 1
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert available_cpus(tmp_path) == len(os.sched_getaffinity(0))
