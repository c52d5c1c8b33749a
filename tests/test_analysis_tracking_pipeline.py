"""Detection → estimation → refinement on whole frames, and the shipped SVR estimator (issue 13).

Truth is synthetic: seeded Lorenz–Mie frames with known particles (:func:`synthetic_frame`), and
fresh holograms for the shipped estimator (seed 11; it was trained on model profiles of seed 0).
Run with ``-s`` to see the figures.

Measured here: the shipped estimator on 100 fresh 301×301 holograms (5 % noise, exact centres):
RMSE a_p 0.026 µm, n_p 0.028, z_p 0.92 µm = 19 px, against the published CNN's 0.23 µm, 0.13 and
47 px (CATCH, Altman & Grier 2020); the asserts keep a margin of ~2× on ours.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.analysis.tracking import Instrument, Sphere, hologram, synthetic_frame
from engine.analysis.tracking.pipeline import (RESULT_COLUMNS, PipelineOptions, Timing, characterise_frame,
                                               characterise_frames, compare_with_truth, resolved_options)
from engine.analysis.tracking.svr_estimator import frame_profiles, load_estimator, radial_profile
from engine.analysis.tracking.windows import symmetric_windows
from engine.analysis.tracking.svr_shipped import RECIPE, SHIPPED_SVR, estimator_for, shipped_estimator

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)
CATCH = {"a_p": 0.23, "n_p": 0.13, "z_px": 47.0}


@pytest.fixture(scope="module")
def svr():
    return shipped_estimator()


# --- the shipped estimator ------------------------------------------------------------------------

def test_shipped_svr_is_small_plain_json_with_its_recipe(svr) -> None:
    size = SHIPPED_SVR.stat().st_size
    record = json.loads(SHIPPED_SVR.read_text())
    print(f"\nshipped SVR: {size / 1e6:.2f} MB, {len(record['vectors'])} distinct support vectors, "
          f"{[len(s) for s in record['support']]} per parameter")
    assert size < 3e6
    assert record["provenance"]["recipe"] == RECIPE and record["decimals"] == RECIPE["decimals"]
    assert "python -m engine.analysis.tracking.svr_shipped" in record["provenance"]["regenerate"]
    assert svr.instrument == MICROSCOPE and svr.radius == 100


def test_shipped_svr_beats_catch_on_fresh_holograms(svr) -> None:
    rng = np.random.default_rng(11)
    side, count = 301, 100
    crops, rows = [], []
    for _ in range(count):
        x, y = (side - 1) / 2 + rng.uniform(-3, 3, 2)
        a_p, n_p, z_p = rng.uniform(0.4, 2.0), rng.uniform(1.38, 1.8), rng.uniform(10, 40)
        crops.append(hologram((side, side), Sphere(x, y, z_p, a_p, n_p), MICROSCOPE) + rng.normal(0, 0.05, (side, side)))
        rows.append((x, y, a_p, n_p, z_p))
    truth = pd.DataFrame(rows, columns=["x", "y", "a_p", "n_p", "z_p"])
    estimates = svr.predict(radial_profile(np.stack(crops), truth[["x", "y"]].to_numpy()))
    rmse = {c: float(np.sqrt(np.mean((estimates[c] - truth[c]) ** 2))) for c in ("a_p", "n_p", "z_p")}
    z_px = rmse["z_p"] / MICROSCOPE.magnification
    print(f"\nshipped SVR, {count} fresh holograms: RMSE a_p {rmse['a_p']:.3f} µm (CATCH 0.23), n_p {rmse['n_p']:.3f} "
          f"(0.13), z_p {rmse['z_p']:.2f} µm = {z_px:.1f} px (47)")
    assert rmse["a_p"] < 0.05 < CATCH["a_p"]
    assert rmse["n_p"] < 0.06 < CATCH["n_p"]
    assert z_px < 32 < CATCH["z_px"]


def test_another_microscope_gets_its_own_estimator_trained_once_and_kept(tmp_path) -> None:
    other = Instrument(wavelength=0.532, magnification=0.1, n_m=1.33)
    with pytest.raises(ValueError, match="trained for λ = 0.447 µm"):
        shipped_estimator().predict_frame(np.ones((64, 64)), np.array([[30.0, 30.0]]), instrument=other)
    said = []
    first = estimator_for(other, tmp_path, progress=said.append)
    assert said and "training an SVR estimator for λ = 0.532 µm" in said[0]
    (kept,) = tmp_path.glob("svr-*.json")
    again = estimator_for(other, tmp_path, progress=said.append)
    assert len(said) == 1 and again.instrument == other                    # read back, not trained again
    profiles = frame_profiles(hologram((201, 201), Sphere(100.2, 99.7, 20.0, 1.0, 1.5), other), [[100.2, 99.7]])
    pd.testing.assert_frame_equal(again.predict(profiles), first.predict(profiles), atol=0.01)
    estimate = again.predict(profiles).iloc[0]
    assert abs(estimate["a_p"] - 1.0) < 0.15 and abs(estimate["z_p"] - 20.0) < 2.0     # its own microscope


# --- profiles at the frame's edge -----------------------------------------------------------------

def test_frame_profiles_average_the_pixels_inside_and_read_1_beyond() -> None:
    rng = np.random.default_rng(4)
    frame = rng.normal(1.0, 0.1, (90, 120))
    inside = frame_profiles(frame, np.array([[60.3, 44.8]]), 30)[0]
    np.testing.assert_allclose(inside, radial_profile(frame, np.array([60.3, 44.8]), 30), rtol=1e-12)
    corner = frame_profiles(frame, pd.DataFrame({"x": [2.4], "y": [87.6]}), 200)[0]
    rows, cols = np.mgrid[0:90, 0:120]
    rings = np.floor(np.hypot(cols - 2.4, rows - 87.6)).astype(int)
    for k in (0, 7, 60, 140):                                            # brute force over the pixels inside
        assert corner[k] == pytest.approx(frame[rings == k].mean(), rel=1e-12)
    assert rings.max() < 150 and np.all(corner[150:] == 1.0)             # rings wholly outside the frame
    with pytest.raises(ValueError, match="lies outside the frame"):
        frame_profiles(frame, np.array([[130.0, 10.0]]))


# --- the pipeline ---------------------------------------------------------------------------------

def test_pipeline_recovers_the_particles_of_a_seeded_frame(svr) -> None:
    """Two particles 150+ px apart in a 384×384 frame, 5 % noise: found, and fitted within the issue's
    tolerances (a_p 1 %, n_p 0.005, z 1 %) with χ² about 1."""
    frame, truth = synthetic_frame((384, 384), MICROSCOPE, particles=(2, 2), seed=5, min_separation=150)
    timing = Timing()
    steps: list[tuple[float, str]] = []
    table = characterise_frame(frame, MICROSCOPE, estimator=svr, timing=timing,
                               progress=lambda f, m: steps.append((f, m)))
    assert list(table.columns) == list(RESULT_COLUMNS)
    scores = compare_with_truth(table, truth)
    print(f"\npipeline, 384×384 frame, 2 particles: {scores}; {timing.as_dict()}")
    assert scores["matched"] == 2 and scores["false"] == 0 and scores["within"] == 2
    assert scores["rms_px"] < 0.3
    assert table["success"].all() and table["chi2"].between(0.8, 1.3).all()
    assert (table[["x_err", "z_err", "a_p_err", "n_p_err"]] > 0).all().all()
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("particle 2 of 2" in m for _, m in steps)                  # progress per particle


def test_estimates_only_and_several_frames(svr) -> None:
    frames = [synthetic_frame((256, 256), MICROSCOPE, particles=(1, 1), seed=s)[0] for s in (1, 2)]
    table = characterise_frames(frames, MICROSCOPE, PipelineOptions(refine=False), estimator=svr)
    assert list(table.columns) == ["frame", *RESULT_COLUMNS] and table["frame"].tolist() == [0, 1]
    assert (table["message"] == "not refined").all() and table["chi2"].isna().all()
    np.testing.assert_array_equal(table["a_p"], table["a_p_estimate"])
    empty = characterise_frame(np.ones((64, 64)), MICROSCOPE, estimator=svr)
    assert empty.empty and list(empty.columns) == list(RESULT_COLUMNS)


def test_bad_frames_and_options_are_refused(svr) -> None:
    with pytest.raises(ValueError, match="one image"):
        characterise_frame(np.ones((3, 64, 64)), MICROSCOPE, estimator=svr)
    with pytest.raises(ValueError, match="1×1 px; at least 32×32"):
        characterise_frame(np.ones((1, 1)), MICROSCOPE, estimator=svr)
    bad = np.ones((64, 64))
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="has 1 NaN or infinite pixel$"):
        characterise_frame(bad, MICROSCOPE, estimator=svr)
    with pytest.raises(ValueError, match="2D array of numbers"):
        characterise_frame(np.array([["a"] * 40] * 40), MICROSCOPE, estimator=svr)
    with pytest.raises(ValueError, match="unknown detector 'yolo'; known: auto, cnn, orientation-alignment"):
        PipelineOptions(detector="yolo")
    with pytest.raises(ValueError, match="unknown estimator 'catch'; known: auto, cnn, svr"):
        PipelineOptions(estimator="catch")
    with pytest.raises(ValueError, match="max_crop must be an integer from 31 to 801"):
        PipelineOptions(max_crop=2000)
    with pytest.raises(ValueError, match="min_crop .* must not exceed max_crop"):
        PipelineOptions(min_crop=301, max_crop=101)
    with pytest.raises(ValueError, match="wavelength must be a positive finite number"):
        Instrument(wavelength=-0.447, magnification=0.048, n_m=1.34)
    with pytest.raises(ValueError, match="must be a trained SVREstimator or CNNEstimator; got str"):
        characterise_frame(np.ones((64, 64)), MICROSCOPE, estimator="model.json")
    with pytest.raises(ValueError, match="needs an SVREstimator"):
        characterise_frame(np.ones((64, 64)), MICROSCOPE, PipelineOptions(estimator="svr"), estimator="model.json")
    other = Instrument(wavelength=0.532, magnification=0.1, n_m=1.33)
    for step in ("detector", "estimator"):                 # the networks refuse another microscope
        with pytest.raises(ValueError, match=f"shipped CNN {step} was trained for λ = 0.447 µm.*λ = 0.532 µm"):
            characterise_frame(np.ones((64, 64)), other, PipelineOptions(**{step: "cnn"}))
    assert load_estimator(SHIPPED_SVR).radius == 100


def test_auto_takes_the_networks_for_their_microscope_and_the_classical_methods_elsewhere() -> None:
    def chosen(instrument, shape=(512, 512), **kw):
        options, notes = resolved_options(PipelineOptions(**kw), instrument, shape)
        return options.detector, options.estimator, notes

    assert chosen(MICROSCOPE)[:2] == ("cnn", "cnn")
    other = Instrument(wavelength=0.532, magnification=0.1, n_m=1.33)
    detector, estimator, notes = chosen(other)
    assert (detector, estimator) == ("orientation-alignment", "svr") and "belong to λ = 0.447 µm" in notes[0]
    assert chosen(MICROSCOPE, (48, 512))[:2] == ("orientation-alignment", "svr")   # too small for the CNN
    assert chosen(MICROSCOPE, detector="orientation-alignment")[:2] == ("orientation-alignment", "cnn")
    assert chosen(MICROSCOPE, estimator="svr")[:2] == ("cnn", "svr")
    options, notes = resolved_options(PipelineOptions(), MICROSCOPE, (512, 512), estimator=shipped_estimator())
    assert options.estimator == "svr" and "estimator: svr (the model given)" in notes


def test_networks_fit_particles_at_the_edge_and_next_to_a_strong_neighbour() -> None:
    """Default pipeline (CNN detector and estimator) on the cases that defeated it: a particle 9 px
    from the frame's edge (its estimation window half outside the camera, completed by the
    hologram's point symmetry) and a weak particle 126 px from a strong one (the cross terms of
    their scattered fields subtracted). Both within the issue's tolerances, χ² ≈ 1."""
    truth = pd.DataFrame({"x": [9.0, 300.0, 420.0], "y": [200.0, 300.0, 300.0], "z": [22.69, 15.36, 26.42],
                          "a_p": [1.912, 1.767, 0.580], "n_p": [1.683, 1.720, 1.797]})
    spheres = [Sphere(*row) for row in truth[["x", "y", "z", "a_p", "n_p"]].itertuples(index=False)]
    frame = hologram((512, 640), spheres, MICROSCOPE) + np.random.default_rng(4).normal(0, 0.05, (512, 640))
    timing = Timing()
    table = characterise_frame(frame, MICROSCOPE, timing=timing)
    scores = compare_with_truth(table, truth)
    print(f"\nedge and neighbour: {scores}; notes {timing.notes}")
    assert "detector: cnn (the shipped network, trained for this microscope)" in timing.notes
    assert scores["matched"] == 3 and scores["false"] == 0 and scores["within"] == 3
    assert table["chi2"].between(0.8, 1.3).all()


def test_windows_beyond_the_edge_are_the_hologram_turned_by_180_degrees() -> None:
    """A sphere's hologram is unchanged by a rotation of 180° about its axis (for x, y or circular
    polarisation alike), so the window of a particle 7.3 px from the frame's left edge, completed
    by :func:`symmetric_windows`, equals the window of the same particle drawn on a wide frame
    (to the linear interpolation of fringes ~16 px apart); corners beyond both read 1."""
    for polarization in ((1, 0), (0, 1), (1 / np.sqrt(2), 1j / np.sqrt(2))):
        instrument = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34, polarization=polarization)
        sphere = Sphere(7.3, 150.6, 15.0, 1.0, 1.59)
        edge = hologram((301, 300), sphere, instrument)
        wide = hologram((301, 500), Sphere(207.3, 150.6, 15.0, 1.0, 1.59), instrument)
        windows, local = symmetric_windows(edge, np.array([[7.3, 150.6]]), 201)
        expected, _ = symmetric_windows(wide, np.array([[207.3, 150.6]]), 201)
        np.testing.assert_allclose(local, [[100.3, 99.6]])     # about the nearest pixel (7, 151)
        assert np.max(np.abs(windows - expected)) < 0.01 * np.ptp(expected)
        assert np.abs(windows[0, :, :93] - expected[0, :, :93]).max() > 0     # those pixels were filled
    corner, _ = symmetric_windows(np.full((50, 50), 2.0), np.array([[0.0, 0.0]]), 201)
    assert corner[0, 0, 0] == 1.0 and corner[0, 100, 100] == 2.0 and corner[0, 70, 70] == 2.0
    with pytest.raises(ValueError, match="odd number of pixels"):
        symmetric_windows(edge, np.array([[7.3, 150.6]]), 200)


def test_poor_fits_duplicates_and_implausible_background_levels_are_reported() -> None:
    """What a stranger found: converged fits that do not explain their crop (χ² 5–29: overlapping
    particles, uneven illumination, crowded or tiny frames) were reported as "ok", one particle
    detected twice came out twice, and the background level measured against poor first fits
    rescaled a 64×64 frame by 9.5 %."""
    from engine.analysis.tracking.pipeline import _flag_poor_fits, _without_duplicates

    table = pd.DataFrame({"particle": [0, 1, 2], "x": [100.0, 300.1, 299.1], "y": [50.0, 29.3, 30.5],
                          "chi2": [1.1, 11.5, 5.3], "success": [True, True, True], "message": ["converged"] * 3,
                          "a_p_estimate": [1.0, 1.0, 2.3], "n_p_estimate": [1.5] * 3, "z_estimate": [20.0] * 3})
    timing = Timing()
    table = _without_duplicates(table, timing)
    assert table["chi2"].tolist() == [1.1, 5.3] and table["particle"].tolist() == [0, 1]    # the better of the two
    _flag_poor_fits(table, {"a_p": (0.4, 2.0), "n_p": (1.38, 1.8), "z_p": (10.0, 40.0)}, timing)
    assert table["message"].tolist() == ["converged", "poor fit: reduced χ² 5.3"]
    assert "1 particle dropped: fitted within 10 px of a better fit" in timing.notes[0]
    assert "1 particle fitted with reduced χ² above 2 (particles 1)" in timing.notes[1]
    assert "1 particle estimated beyond the estimator's training range of a_p (0.4–2 µm)" in timing.notes[2]

    truth = pd.DataFrame({"x": [32.0], "y": [32.0], "z": [15.0], "a_p": [0.8], "n_p": [1.5]})
    frame = hologram((64, 64), Sphere(32.0, 32.0, 15.0, 0.8, 1.5), MICROSCOPE) \
        + np.random.default_rng(0).normal(0, 0.05, (64, 64))
    timing = Timing()
    characterise_frame(frame, MICROSCOPE, timing=timing)
    assert any("beyond ±3% of the normalisation: left at 1" in note for note in timing.notes), timing.notes
