"""Trajectories as input (issue 15): the file reader and its refusals, p_hop labels against their
definition and against planted hops, and softness trained from those labels in 2D and 3D.

Truth: :func:`engine.analysis.softness.synthetic.vacancy_hopping` plants hops of known particles and
frames, and only a neighbour of a vacancy can hop, so a particle's structure (a missing
neighbour) decides whether it can rearrange: a softness trained on p_hop labels must find that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from engine.analysis.ordering.systems import ParticleSystem, minimum_image
from engine.analysis.softness.descriptors import SoftnessDescriptors
from engine.analysis.softness.inputs import read_glass_file
from engine.analysis.softness.labels import HopSettings, hop_labels, trajectory_labels, training_frames
from engine.analysis.softness.models import load_model, train_softness_from_labels
from engine.analysis.softness.prediction import predict_table
from engine.analysis.softness.shipped import load_shipped
from engine.analysis.softness.structure_functions import StructureFunctionSet
from engine.analysis.softness.synthetic import vacancy_hopping
from engine.analysis.softness.trajectory import GlassTrajectory, read_trajectory, write_trajectory
from engine.analysis.softness.training import fit_units, score_units, split_held_out, units_from

#: Structure functions light enough for a 3D fcc crystal of 4 cells (box 5.66): cutoffs below L/2.
SMALL_3D = SoftnessDescriptors(StructureFunctionSet(mu=tuple(np.arange(0.2, 2.01, 0.1)), width=0.1,
                                                    xi=(1.0, 1.5), lambdas=(-1.0, 1.0), zeta=(1.0, 2.0),
                                                    angular_cutoff=1.5), average_radius=1.5)


def _save(path: Path, **fields) -> Path:
    np.savez(path, **fields)
    return path


def _missing_neighbour(system: ParticleSystem) -> np.ndarray:
    """Whether each particle of a lattice with vacancies has fewer neighbours within 1.2 than most."""
    d = system.positions[:, None] - system.positions[None]
    r = np.linalg.norm(minimum_image(d.reshape(-1, system.dim), system.box), axis=1).reshape(d.shape[:2])
    counts = (r < 1.2).sum(axis=1) - 1
    return counts < np.bincount(counts).argmax()  # fewer than the full shell (6 in 2D, 12 in fcc)


def test_a_written_trajectory_reads_back_in_2d_and_3d(tmp_path: Path) -> None:
    for kind, cells in (("hexagonal", (12, 7)), ("fcc", 4)):
        trajectory, _ = vacancy_hopping(kind, cells, frames=30, hops=5, seed=0)
        back = read_glass_file(write_trajectory(trajectory, tmp_path / f"{kind}.npz"))
        assert isinstance(back, GlassTrajectory) and back.dim == trajectory.dim
        np.testing.assert_array_equal(back.positions, trajectory.positions)
        np.testing.assert_array_equal(back.species, trajectory.species)
        np.testing.assert_allclose(back.box.L, trajectory.box.L)
        np.testing.assert_array_equal(back.times, np.arange(30))
    frame = back.frame(3)  # wrapped into the centred box, same minimum-image geometry
    assert np.all(np.abs(frame.positions) <= back.box.L / 2 + 1e-9)


def test_the_box_comes_from_the_file_or_the_caller(tmp_path: Path) -> None:
    positions = np.random.default_rng(0).uniform(0, 10, (5, 20, 3))
    positions[1:] = positions[0] + np.random.default_rng(1).normal(scale=0.05, size=(4, 20, 3))
    types = np.zeros(20, dtype=int)
    bare = _save(tmp_path / "bare.npz", types=types, positions=positions)
    assert read_trajectory(bare, box_length=10.0).box.L[0] == pytest.approx(10.0)
    assert read_trajectory(bare, density=0.02).box.L[0] == pytest.approx(10.0)  # (20 / 0.02)^(1/3)
    boxed = _save(tmp_path / "boxed.npz", types=types, positions=positions, box=np.array([10.0, 11.0, 12.0]))
    assert list(read_trajectory(boxed).box.L) == pytest.approx([10.0, 11.0, 12.0])
    with pytest.raises(ValueError, match="the file's box is 10 × 11 × 12; the given box length 10 disagrees"):
        read_trajectory(boxed, box_length=10.0)


@pytest.mark.parametrize(("fields", "options", "message"), [
    ({"types": np.zeros(4, int), "positions": np.zeros((10, 4))}, {"box_length": 5.0},
     r"positions must have shape \(T, N, d\) with d = 2 or 3, got \(10, 4\)"),
    ({"types": np.zeros(4, int), "positions": np.zeros((10, 4, 4))}, {"box_length": 5.0},
     r"d = 2 or 3, got \(10, 4, 4\)"),
    ({"types": np.zeros(3, int), "positions": np.zeros((10, 4, 3))}, {"box_length": 5.0},
     r"types must hold 4 integers \(one per particle\)"),
    ({"types": np.zeros(4, int), "positions": np.zeros((2, 4, 3))}, {"box_length": 5.0},
     "a trajectory needs at least 3 frames"),
    ({"types": np.zeros(4, int), "positions": np.where(np.arange(120).reshape(10, 4, 3) == 50, np.nan, 0.0)},
     {"box_length": 5.0}, r"NaN or infinite values \(frames \[4\]\)"),
    ({"types": np.zeros(4, int), "positions": np.zeros((10, 4, 3))}, {}, "the trajectory has no box field"),
    ({"types": np.zeros(4, int), "positions": np.cumsum(np.full((10, 4, 3), 3.0), axis=0)}, {"box_length": 5.0},
     "more than half the box .* positions must be unwrapped"),
    ({"types": np.zeros(4, int), "positions": np.zeros((10, 4, 3)), "times": np.arange(10.0) ** 2},
     {"box_length": 5.0}, "times must increase in equal steps"),
    ({"positions": np.zeros((10, 4, 3))}, {"box_length": 5.0}, "missing types"),
])
def test_malformed_trajectories_are_refused_with_the_reason(tmp_path: Path, fields: dict, options: dict,
                                                            message: str) -> None:
    path = _save(tmp_path / "t.npz", **fields)
    with pytest.raises(ValueError, match=message) as caught:
        read_glass_file(path, **options)
    assert str(caught.value).startswith("t.npz: ")


def _labels_by_loops(phop: np.ndarray, settings: HopSettings) -> np.ndarray:
    T, N = phop.shape
    out = np.full((T, N), -1)
    s = settings.stable_window
    for t in range(T):
        for i in range(N):
            if np.isfinite(phop[t, i]) and phop[t, i] > settings.threshold:
                out[t, i] = 1
            elif s <= t < T - s and all(np.isfinite(phop[u, i]) and phop[u, i] < settings.stable_threshold
                                        for u in range(t - s, t + s + 1)):
                out[t, i] = 0
    return out


def test_hop_labels_equal_their_definition() -> None:
    rng = np.random.default_rng(3)
    phop = rng.exponential(0.05, (60, 25))
    phop[:4], phop[-4:] = np.nan, np.nan
    for settings in (HopSettings(half_window=4), HopSettings(half_window=4, stable_threshold=0.03, stable_window=2),
                     HopSettings(half_window=4, stable_window=0)):
        np.testing.assert_array_equal(hop_labels(phop, settings), _labels_by_loops(phop, settings))


@pytest.mark.parametrize(("kind", "cells"), [("hexagonal", (16, 9)), ("fcc", 4)])
def test_labels_find_the_planted_hops_and_never_call_a_hopping_particle_stable(kind: str, cells) -> None:
    trajectory, planted = vacancy_hopping(kind, cells, frames=300, hops=120, seed=4)
    settings = HopSettings()
    _, labels = trajectory_labels(trajectory, settings)
    w, s = settings.half_window, settings.stable_window
    found = np.array([labels[t, i] == 1 for t, i in planted])
    called_stable = np.array([any(labels[t + dt, i] == 0 for dt in range(-s, s + 1) if 0 <= t + dt < 300)
                              for t, i in planted])
    print(f"\n{kind}: {len(planted)} planted hops, {100 * found.mean():.1f} % labelled rearranging at their frame, "
          f"{int(called_stable.sum())} called stable within {s} frames; {int(np.sum(labels == 1))} rearranging and "
          f"{int(np.sum(labels == 0))} stable labels")
    # a hop that p_hop misses (a particle hopping back within the window) may be called stable; no other
    assert found.mean() >= 0.9 and not np.any(found & called_stable)
    frames = training_frames(labels, settings)
    assert 0 < len(frames) <= settings.max_frames and np.all(np.diff(frames) >= w)
    assert all((labels[t] == 1).any() and (labels[t] == 0).any() for t in frames)


def test_a_trajectory_too_short_for_the_windows_is_refused() -> None:
    trajectory, _ = vacancy_hopping(frames=20, hops=2, margin=5, seed=0)
    with pytest.raises(ValueError, match=r"has 20 frames; p_hop windows of 5 frames and a stable window of 10 "
                                         r"frames need at least 31"):
        trajectory_labels(trajectory, HopSettings())
    with pytest.raises(ValueError, match=r"stable_threshold must be > 0 and at most threshold \(0.2\), got 0.3"):
        HopSettings(threshold=0.2, stable_threshold=0.3)


def test_2d_end_to_end_trajectory_file_train_predict(tmp_path: Path) -> None:
    """A 2D trajectory file → p_hop labels → SVM softness → saved → prediction on an independent
    trajectory: rearranging particles are soft, and softness finds the structural cause."""
    train_file = write_trajectory(vacancy_hopping(cells=(16, 9), frames=300, hops=120, seed=1)[0], tmp_path / "a.npz")
    units = units_from(read_glass_file(train_file), "a.npz", hops=HopSettings(max_frames=20))
    train, held = split_held_out(units)
    model, report = fit_units(train, held_out=held)
    assert model.kind == "softness" and model.dim == 2 and report["configurations"] == len(train) == 16
    path = model.save(tmp_path / "m.json")
    other, _ = vacancy_hopping(cells=(16, 9), frames=300, hops=120, seed=11)
    table, summary = predict_table(other, [load_model(path)], hops=HopSettings(max_frames=20))
    scored = table[table.softness.notna()]
    truth = np.concatenate([_missing_neighbour(other.frame(int(t)))[other.species == "A"]
                            for t in summary["frames"]])
    auc = roc_auc_score(truth, scored.softness)
    print(f"\ntrained on {report['training_particles']} particles of {len(train)} frames; held out "
          f"{report['held_out']}; independent trajectory: {100 * summary['rearranging_soft_fraction']:.1f} % of "
          f"{summary['n_rearranging']} rearranging particle-frames soft, {100 * summary['soft_fraction']:.1f} % soft "
          f"overall, AUC(missing neighbour) {auc:.3f}")
    assert summary["rearranging_soft_fraction"] >= 0.8 and summary["soft_fraction"] <= 0.6
    assert auc >= 0.85 and report["held_out"]["balanced_accuracy"] >= 0.7


def test_3d_labels_train_a_softness_that_finds_the_vacancies() -> None:
    """fcc with 4 vacancies (48 of 252 particles next to one); C = 0.01. Measured over seeds 2 and 3 and
    15, 20 or 25 frames: 80–93 % of rearranging particles soft, AUC 0.85–0.97 (here 80 %, 0.85)."""
    trajectory, _ = vacancy_hopping("fcc", 4, frames=300, hops=120, vacancies=4, seed=2)
    units = units_from(trajectory, "fcc", hops=HopSettings(max_frames=20))
    model, report = fit_units(units, descriptors=SMALL_3D)
    other, _ = vacancy_hopping("fcc", 4, frames=300, hops=120, vacancies=4, seed=12)
    scores = score_units(model, units_from(other, "other", hops=HopSettings(max_frames=15)))
    system = other.frame(150)
    a = system.species == "A"
    auc = roc_auc_score(_missing_neighbour(system)[a], model.predict(system)[a])
    print(f"\n3D: {report['training_particles']} training particles; independent: {scores}; AUC {auc:.3f}")
    assert model.dim == 3 and scores["rearranging_soft_fraction"] >= 0.75 and auc >= 0.8


def test_models_refuse_data_of_another_dimension() -> None:
    two_d, _ = vacancy_hopping(frames=40, hops=10, seed=0)
    with pytest.raises(ValueError, match="this model was trained on 3D configurations; the system is 2D"):
        predict_table(two_d, [load_shipped()[0]])
    three_d, _ = vacancy_hopping("fcc", 4, frames=40, hops=10, seed=0)
    mixed = units_from(two_d, "2d", hops=HopSettings(stable_window=2)) \
        + units_from(three_d, "3d", hops=HopSettings(stable_window=2))
    with pytest.raises(ValueError, match=r"training data mix dimensions \[2, 3\]"):
        fit_units(mixed)
    with pytest.raises(ValueError, match=r"mix dimensions \[2, 3\]"):
        train_softness_from_labels([u.system for u in mixed], [u.labels for u in mixed])


def test_training_needs_both_classes_and_dynamics() -> None:
    still = GlassTrajectory(np.random.default_rng(0).normal(scale=0.02, size=(40, 50, 2))
                            + np.random.default_rng(1).uniform(0, 10, (1, 50, 2)), np.array(["A"] * 50),
                            vacancy_hopping(frames=40, hops=0)[0].box)
    with pytest.raises(ValueError, match=r"still: no frame has both a rearranging and a non-rearranging particle of "
                                         r"species 'A' \(0 particles ever have p_hop > 0.2\)"):
        units_from(still, "still")
    with pytest.raises(ValueError, match="a propensity \\(ridge\\) model needs configurations with propensity"):
        fit_units(units_from(vacancy_hopping(frames=60, hops=20)[0], "t"), kind="propensity")


def test_files_that_are_not_npz_archives_are_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.npz").write_bytes(b"not an archive")
    np.save(tmp_path / "one.npy", np.zeros((4, 3)))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    with pytest.raises(ValueError, match=r"junk.npz: not a NumPy .npz file .*pickled objects are never loaded"):
        read_glass_file(tmp_path / "junk.npz", box_length=5.0)
    with pytest.raises(ValueError, match=r"one.npz: not a NumPy .npz archive \(a single array"):
        read_trajectory(tmp_path / "one.npz", box_length=5.0)
