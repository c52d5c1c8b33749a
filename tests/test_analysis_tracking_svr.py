"""SVR estimator on radial profiles (Yevick, Hannel & Grier 2014): issue 13, must-show item 3.

Truth is synthetic: training profiles come straight from the forward model
(:func:`model_profiles`, seed 0), held-out particles are noisy 301×301 holograms
(:func:`.hologram.hologram`, 5 % noise, seed 1) over the issue's ranges, with centres either
exact or found by :func:`.detection.locate_rings`. Run with ``-s`` to see the RMSE table.

The bar is the published CNN estimator (CATCH, Altman & Grier 2020, 100 synthetic holograms):
RMSE 0.23 µm in a_p, 0.13 in n_p, 47 px in z_p. Measured here (1500 training profiles,
100 held-out crops, exact or detected centres): a_p 0.042 µm, n_p 0.041, z_p 1.02 µm = 21 px;
the asserts keep a margin of about 2× on these and stay below the bar.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.analysis.tracking import Instrument, Sphere, hologram
from engine.analysis.tracking.detection import locate_rings
from engine.analysis.tracking.refine import crop_around, refine
from engine.analysis.tracking.svr_estimator import (SVREstimator, load_estimator, model_profiles, radial_profile,
                                                    ring_counts, training_set)

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)
CATCH = {"a_p": 0.23, "n_p": 0.13, "z_px": 47.0}
HELD_OUT = 100
SIDE = 301


@pytest.fixture(scope="module")
def estimator() -> SVREstimator:
    profiles, table = training_set(1500, MICROSCOPE, seed=0)
    return SVREstimator(instrument=MICROSCOPE).fit(profiles, table)


@pytest.fixture(scope="module")
def held_out() -> tuple[np.ndarray, pd.DataFrame]:
    """Noisy crops, a particle near the middle of each (off the pixel grid), and the truth."""
    rng = np.random.default_rng(1)
    crops, rows = [], []
    for _ in range(HELD_OUT):
        x, y = (SIDE - 1) / 2 + rng.uniform(-3, 3, 2)
        a_p, n_p, z_p = rng.uniform(0.4, 2.0), rng.uniform(1.38, 1.8), rng.uniform(10, 40)
        crops.append(hologram((SIDE, SIDE), Sphere(x, y, z_p, a_p, n_p), MICROSCOPE)
                     + rng.normal(0, 0.05, (SIDE, SIDE)))
        rows.append((x, y, a_p, n_p, z_p))
    return np.stack(crops), pd.DataFrame(rows, columns=["x", "y", "a_p", "n_p", "z_p"])


@pytest.fixture(scope="module")
def detected(held_out) -> np.ndarray:
    """Centres from the classical detector (the strongest detection in each crop)."""
    crops, truth = held_out
    centres = []
    for crop in crops:
        found = locate_rings(crop)
        assert len(found) >= 1
        best = found.iloc[int(np.argmin(np.hypot(found.x - (SIDE - 1) / 2, found.y - (SIDE - 1) / 2)))]
        centres.append((best.x, best.y))
    return np.array(centres)


def rmse(estimates: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    errors = {c: float(np.sqrt(np.mean((estimates[c].to_numpy() - truth[c].to_numpy()) ** 2)))
              for c in ("a_p", "n_p", "z_p")}
    errors["z_px"] = errors["z_p"] / MICROSCOPE.magnification
    return errors


def report(label: str, errors: dict[str, float]) -> None:
    print(f"\n{label}: RMSE a_p {errors['a_p']:.3f} µm (CATCH 0.23), n_p {errors['n_p']:.3f} (0.13), "
          f"z_p {errors['z_p']:.2f} µm = {errors['z_px']:.1f} px (47)")


# --- profiles -----------------------------------------------------------------------------------

def test_radial_profile_equals_brute_force_loop() -> None:
    rng = np.random.default_rng(2)
    crops = rng.normal(1.0, 0.1, (3, 41, 47))
    centres = np.column_stack([rng.uniform(20, 26, 3), rng.uniform(17, 23, 3)])
    radius = 15
    fast = radial_profile(crops, centres, radius)
    for crop, (cx, cy), profile in zip(crops, centres, fast):
        sums, counts = np.zeros(radius), np.zeros(radius)
        for i in range(crop.shape[0]):
            for j in range(crop.shape[1]):
                k = int(np.floor(np.hypot(j - cx, i - cy)))
                if k < radius:
                    sums[k] += crop[i, j]
                    counts[k] += 1
        np.testing.assert_allclose(profile, sums / counts, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(radial_profile(crops[0], centres[0], radius), fast[0])     # one crop
    ones = radial_profile(np.ones((61, 61)), None, 30)
    np.testing.assert_allclose(ones, 1.0, atol=1e-15)
    assert ring_counts(30).sum() == np.sum(np.floor(np.hypot(*np.mgrid[-30:31, -30:31])) < 30)


@pytest.mark.parametrize("a_p, n_p, z_p", [(0.4, 1.38, 40.0), (0.5, 1.4, 10.0), (1.0, 1.5, 25.0),
                                           (2.0, 1.6, 40.0), (2.0, 1.8, 10.0)])
def test_model_profile_matches_crop_average(a_p: float, n_p: float, z_p: float) -> None:
    """The 1D model profile (training) equals the ring average of a noise-free 201×201 crop."""
    rng = np.random.default_rng(3)
    x, y = 100 + rng.uniform(-0.5, 0.5, 2)
    crop = hologram((201, 201), Sphere(x, y, z_p, a_p, n_p), MICROSCOPE)
    measured = radial_profile(crop, np.array([x, y]))
    model = model_profiles(pd.DataFrame({"a_p": [a_p], "n_p": [n_p], "z_p": [z_p]}), MICROSCOPE)[0]
    difference = measured - model
    # measured 0.0005 (weak scatterers) … 0.007 (a_p 2 µm, n_p 1.8, z 10 µm; profile range 1.8);
    # the noise of a ring average at 5 % pixel noise is 0.05/√(2πk) ≈ 0.003 at k = 50
    assert np.max(np.abs(difference)) < 0.01
    assert np.sqrt(np.mean(difference**2)) < 0.003


def test_training_set_is_seeded() -> None:
    first = training_set(5, MICROSCOPE, seed=7)
    second = training_set(5, MICROSCOPE, seed=7)
    np.testing.assert_array_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])
    assert first[0].shape == (5, 100) and list(first[1].columns) == ["a_p", "n_p", "z_p"]


# --- accuracy -----------------------------------------------------------------------------------

def test_estimates_beat_catch_with_exact_centres(estimator, held_out) -> None:
    crops, truth = held_out
    errors = rmse(estimator.predict_crops(crops, truth[["x", "y"]].to_numpy()), truth)
    report(f"SVR, {HELD_OUT} held-out crops, exact centres", errors)
    assert errors["a_p"] < 0.08 < CATCH["a_p"]
    assert errors["n_p"] < 0.08 < CATCH["n_p"]
    assert errors["z_px"] < 40 < CATCH["z_px"]


def test_estimates_beat_catch_with_detected_centres(estimator, held_out, detected) -> None:
    crops, truth = held_out
    offset = np.hypot(*(detected - truth[["x", "y"]].to_numpy()).T)
    errors = rmse(estimator.predict_crops(crops, detected), truth)
    report(f"SVR, {HELD_OUT} held-out crops, detected centres (median offset {np.median(offset):.2f} px)", errors)
    assert errors["a_p"] < 0.1 < CATCH["a_p"]
    assert errors["n_p"] < 0.1 < CATCH["n_p"]
    assert errors["z_px"] < 40 < CATCH["z_px"]


def test_refinement_started_from_estimate_reaches_truth(estimator, held_out, detected) -> None:
    """Issue tolerances after refinement: a_p 1 %, n_p 0.005, z_p 1 % (≥ 95 % asked; a subset here)."""
    crops, truth = held_out
    count = 12
    estimates = estimator.predict_crops(crops[:count], detected[:count])
    hits = []
    for i in range(count):
        crop, origin = crop_around(crops[i], *detected[i], 201)
        start = {"x": detected[i, 0], "y": detected[i, 1], "z": estimates.z_p[i], "a_p": estimates.a_p[i],
                 "n_p": estimates.n_p[i]}
        fit = refine(crop, start, MICROSCOPE, origin=origin)
        got, true = fit.values, truth.iloc[i]
        hits.append(fit.success and abs(got["a_p"] / true.a_p - 1) <= 0.01 and abs(got["n_p"] - true.n_p) <= 0.005
                    and abs(got["z"] / true.z_p - 1) <= 0.01)
    print(f"\nrefinement from SVR estimates: {sum(hits)}/{count} within a_p 1 %, n_p 0.005, z_p 1 %")
    assert sum(hits) >= count - 1


# --- persistence and prediction -----------------------------------------------------------------

def test_save_load_round_trip_gives_identical_predictions(estimator, held_out, tmp_path) -> None:
    crops, truth = held_out
    profiles = radial_profile(crops[:20], truth[["x", "y"]].to_numpy()[:20])
    path = estimator.save(tmp_path / "svr.json")
    record = json.loads(path.read_text())
    assert record["format"] == "matloop.tracking.svr-estimator" and len(record["support"]) == 3
    loaded = load_estimator(path)
    pd.testing.assert_frame_equal(loaded.predict(profiles), estimator.predict(profiles), check_exact=True)
    assert loaded.instrument == MICROSCOPE


def test_first_layout_files_load_and_rounded_files_stay_close(estimator, held_out, tmp_path) -> None:
    """Files of the first layout (one vector list per parameter) still load; ``decimals`` rounds only
    the stored vectors: 5 decimals change no estimate by more than 2 % of the held-out RMSE."""
    crops, truth = held_out
    profiles = radial_profile(crops[:20], truth[["x", "y"]].to_numpy()[:20])
    record = estimator.to_dict()
    first = {k: v for k, v in record.items() if k not in ("vectors", "support", "decimals")}
    first.update(version=1, support_vectors=[v.tolist() for v in estimator.support_vectors_])
    (tmp_path / "v1.json").write_text(json.dumps(first))
    reference = estimator.predict(profiles)
    pd.testing.assert_frame_equal(load_estimator(tmp_path / "v1.json").predict(profiles), reference, check_exact=True)
    rounded = load_estimator(estimator.save(tmp_path / "rounded.json", decimals=5)).predict(profiles)
    assert (tmp_path / "rounded.json").stat().st_size < 0.6 * len(json.dumps(first))
    for column, rmse in (("a_p", 0.042), ("n_p", 0.041), ("z_p", 1.02)):
        assert np.max(np.abs(rounded[column] - reference[column])) < 0.02 * rmse


def test_prediction_equals_scikit_learn() -> None:
    """The NumPy kernel expansion used for prediction is scikit-learn's SVR to rounding."""
    from sklearn.svm import SVR

    profiles, table = training_set(200, MICROSCOPE, seed=4)
    ours = SVREstimator(C=3.0, gamma=0.02, epsilon=0.05).fit(profiles, table)
    test_profiles = training_set(30, MICROSCOPE, seed=5)[0]
    Z, Zt = ((p - ours.mean_) / ours.scale_ for p in (profiles, test_profiles))
    for column, name in enumerate(["a_p", "n_p", "z_p"]):
        target = (table[name].to_numpy() - ours.target_mean_[column]) / ours.target_scale_[column]
        reference = SVR(kernel="rbf", C=3.0, gamma=0.02, epsilon=0.05).fit(Z, target).predict(Zt)
        reference = reference * ours.target_scale_[column] + ours.target_mean_[column]
        np.testing.assert_allclose(ours.predict(test_profiles)[name], reference, rtol=1e-10, atol=1e-10)


# --- bad input ----------------------------------------------------------------------------------

def test_bad_inputs_give_clear_errors(estimator, tmp_path) -> None:
    with pytest.raises(ValueError, match="not trained"):
        SVREstimator().predict(np.ones((1, 100)))
    with pytest.raises(ValueError, match="not trained"):
        SVREstimator().save(tmp_path / "x.json")
    with pytest.raises(ValueError, match=r"shape \(n, 100\)"):
        estimator.predict(np.ones((2, 99)))
    with pytest.raises(ValueError, match=r"shape \(n, 100\)"):
        estimator.predict(np.ones((2, 2, 100)))
    bad = np.ones((2, 100))
    bad[1, 5] = np.nan
    with pytest.raises(ValueError, match="finite"):
        estimator.predict(bad)
    with pytest.raises(ValueError, match="finite"):
        radial_profile(np.full((201, 201), np.nan))
    with pytest.raises(ValueError, match="image .* or a stack"):
        radial_profile(np.ones(10))
    with pytest.raises(ValueError, match=r"centres must have shape \(2, 2\)"):
        radial_profile(np.ones((2, 201, 201)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="too small"):
        radial_profile(np.ones((101, 101)), radius=100)
    with pytest.raises(ValueError, match="radius must be an integer"):
        radial_profile(np.ones((11, 11)), radius=1.5)
    with pytest.raises(ValueError, match="missing"):
        SVREstimator().fit(np.ones((3, 100)), pd.DataFrame({"a_p": [1, 2, 3]}))
    with pytest.raises(ValueError, match="one table row per profile"):
        SVREstimator().fit(np.ones((3, 100)), pd.DataFrame({"a_p": [1, 2], "n_p": [1.5, 1.6], "z_p": [10, 20]}))
    with pytest.raises(ValueError, match="C must be"):
        SVREstimator(C=-1)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ValueError, match="not an estimator file"):
        load_estimator(tmp_path / "junk.json")
    record = estimator.to_dict()
    record["dual_coef"] = record["dual_coef"][:2]
    (tmp_path / "damaged.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="damaged"):
        load_estimator(tmp_path / "damaged.json")
