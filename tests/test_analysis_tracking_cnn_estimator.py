"""CNN estimator on crops (CATCH, Altman & Grier 2020): issue 13, must-show item 3.

Truth is synthetic and independent of the network: held-out particles are noisy 211×211
holograms from :func:`.hologram.hologram` (5 % noise, seed 11; training used seed 0) over the
issue's ranges, centred off the pixel grid; the training windows' generator
(:func:`model_windows`, through :class:`.crop_model.CropModel`) is checked against
:func:`.hologram.hologram` itself. Run with ``-s`` to see the RMSE table.

The bar is CATCH's own evaluation (100 synthetic holograms): RMSE 0.23 µm in a_p, 0.13 in n_p,
47 px in z_p. Measured for the shipped model: on these 120 particles 0.014 µm, 0.009, 5.2 px
(5.9 px with centres 1 px off); on 600 held-out 301×301 holograms
(``tests/benchmarks/bench_tracking_estimation.py``) 0.013 µm, 0.008, 5.7 px, where the shipped
SVR gets 0.022 µm, 0.031, 13 px. The asserts keep a margin of about 2× on the measured values,
an eighth of CATCH's bar in a_p and n_p and a fifth in z_p.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch

from engine.analysis.tracking import Instrument, Sphere, hologram
from engine.analysis.tracking.cnn_estimator import (BIN, PIXELS, SHIPPED_ESTIMATOR, WINDOW, CNNEstimator,
                                                    load_cnn_estimator, load_shipped_estimator, model_windows,
                                                    network_input, training_windows)

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)
CATCH = {"a_p": 0.23, "n_p": 0.13, "z_px": 47.0}
HELD_OUT = 120
SIDE = 211


@pytest.fixture(scope="module")
def shipped() -> CNNEstimator:
    return load_shipped_estimator()


@pytest.fixture(scope="module")
def held_out() -> tuple[np.ndarray, pd.DataFrame]:
    """Noisy crops, a particle near the middle of each (off the pixel grid), and the truth."""
    rng = np.random.default_rng(11)
    crops, rows = [], []
    for _ in range(HELD_OUT):
        x, y = (SIDE - 1) / 2 + rng.uniform(-3, 3, 2)
        a_p, n_p, z_p = rng.uniform(0.4, 2.0), rng.uniform(1.38, 1.8), rng.uniform(10, 40)
        crops.append(hologram((SIDE, SIDE), Sphere(x, y, z_p, a_p, n_p), MICROSCOPE)
                     + rng.normal(0, 0.05, (SIDE, SIDE)))
        rows.append((x, y, a_p, n_p, z_p))
    return np.stack(crops), pd.DataFrame(rows, columns=["x", "y", "a_p", "n_p", "z_p"])


def rmse(estimates: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    errors = {c: float(np.sqrt(np.mean((estimates[c].to_numpy() - truth[c].to_numpy()) ** 2)))
              for c in ("a_p", "n_p", "z_p")}
    errors["z_px"] = errors["z_p"] / MICROSCOPE.magnification
    return errors


def report(label: str, errors: dict[str, float]) -> None:
    print(f"\n{label}: RMSE a_p {errors['a_p']:.3f} µm (CATCH 0.23), n_p {errors['n_p']:.3f} (0.13), "
          f"z_p {errors['z_p']:.2f} µm = {errors['z_px']:.1f} px (47)")


# --- inputs ---------------------------------------------------------------------------------------

def test_network_input_equals_brute_force_block_means() -> None:
    """Each input pixel is the mean of a 3×3 block about the nearest pixel; outside reads 1."""
    rng = np.random.default_rng(2)
    frame = rng.normal(1.0, 0.1, (230, 260))
    centres = np.array([[130.4, 110.6], [3.2, 5.0], [255.49, 228.7], [-0.5, 120.0]])   # middle, corners, edge
    fast = network_input(frame, centres)
    assert fast.shape == (4, PIXELS, PIXELS) and fast.dtype == np.float32
    half = WINDOW // 2
    for (x, y), window in zip(centres, fast):
        cx, cy = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
        for i in (0, 1, 33, 50, PIXELS - 1):
            for j in (0, 7, 33, PIXELS - 1):
                values = []
                for r in range(cy - half + BIN * i, cy - half + BIN * i + BIN):
                    for c in range(cx - half + BIN * j, cx - half + BIN * j + BIN):
                        inside = 0 <= r < frame.shape[0] and 0 <= c < frame.shape[1]
                        values.append(frame[r, c] if inside else 1.0)
                assert window[i, j] == pytest.approx(np.mean(values), abs=1e-6)
    # a stack of crops gives the same windows as the frame they were cut from
    crops = np.stack([frame[10:221, 20:231], frame[15:226, 40:251]])
    np.testing.assert_array_equal(network_input(crops, np.array([[100.0, 100.0], [104.3, 102.8]])),
                                  network_input(frame, np.array([[120.0, 110.0], [144.3, 117.8]])))
    np.testing.assert_array_equal(network_input(crops), network_input(frame, np.array([[125, 115], [145, 120]])))


@pytest.mark.parametrize("a_p, n_p, z_p, dx, dy", [(0.4, 1.38, 40.0, 0.0, 0.0), (0.5, 1.4, 10.0, 0.3, -0.2),
                                                   (1.0, 1.5, 25.0, -1.4, 1.1), (2.0, 1.8, 10.0, 1.5, 1.5),
                                                   (2.0, 1.6, 40.0, -0.5, 0.49)])
def test_training_windows_equal_the_forward_model(a_p: float, n_p: float, z_p: float, dx: float, dy: float) -> None:
    """The training generator (CropModel, binned) equals the binned image of hologram.hologram."""
    table = pd.DataFrame({"a_p": [a_p], "n_p": [n_p], "z_p": [z_p], "dx": [dx], "dy": [dy]})
    generated = model_windows(table, MICROSCOPE)[0]
    image = hologram((WINDOW, WINDOW), Sphere(100 + dx, 100 + dy, z_p, a_p, n_p), MICROSCOPE)
    np.testing.assert_allclose(generated, network_input(image[None])[0], rtol=0, atol=1e-6)
    # the same particle in a larger crop, found through its centre
    crop = hologram((241, 251), Sphere(130 + dx, 110 + dy, z_p, a_p, n_p), MICROSCOPE)
    np.testing.assert_allclose(generated, network_input(crop, np.array([130.0, 110.0]))[0], rtol=0, atol=1e-6)


def test_mirror_images_are_symmetries_for_x_polarisation() -> None:
    """Training flips windows only when the hologram allows it (s₂ = 0; crop_model notes)."""
    table = pd.DataFrame({"a_p": [1.2, 1.2, 1.2], "n_p": [1.6] * 3, "z_p": [12.0] * 3,
                          "dx": [0.7, -0.7, 0.7], "dy": [0.4, 0.4, -0.4]})
    base, mirror_x, mirror_y = model_windows(table, MICROSCOPE)
    np.testing.assert_allclose(base[:, ::-1], mirror_x, atol=1e-6)
    np.testing.assert_allclose(base[::-1, :], mirror_y, atol=1e-6)
    diagonal = Instrument(0.447, 0.048, 1.34, polarization=(1.0, 1.0))                      # s₂ = 1
    base, mirror_x, _ = model_windows(table, diagonal)
    assert np.max(np.abs(base[:, ::-1] - mirror_x)) > 1e-2


def test_training_windows_are_seeded() -> None:
    first = training_windows(3, MICROSCOPE, seed=7)
    second = training_windows(3, MICROSCOPE, seed=7)
    np.testing.assert_array_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])
    assert np.all(np.abs(first[1][["dx", "dy"]].to_numpy()) <= 1.5)


# --- accuracy of the shipped network ---------------------------------------------------------------

def test_shipped_estimator_beats_catch_on_held_out_holograms(shipped, held_out) -> None:
    crops, truth = held_out
    errors = rmse(shipped.predict_crops(crops, truth[["x", "y"]].to_numpy()), truth)
    report(f"CNN, {HELD_OUT} held-out holograms, exact centres", errors)
    # measured 0.014 µm, 0.009, 5.2 px; CATCH 0.23, 0.13, 47 px; the shipped SVR 0.022, 0.031, 13 px
    assert errors["a_p"] < 0.03
    assert errors["n_p"] < 0.02
    assert errors["z_px"] < 10.0


def test_shipped_estimator_tolerates_centre_errors_of_a_pixel(shipped, held_out) -> None:
    """Training jitters the centre by up to 1.5 px: a detector 1 px off costs little."""
    crops, truth = held_out
    angle = np.random.default_rng(5).uniform(0, 2 * np.pi, len(truth))
    centres = truth[["x", "y"]].to_numpy() + np.column_stack([np.cos(angle), np.sin(angle)])
    errors = rmse(shipped.predict_crops(crops, centres), truth)
    report(f"CNN, {HELD_OUT} held-out holograms, centres 1 px off", errors)
    # measured 0.014 µm, 0.009, 5.9 px
    assert errors["a_p"] < 0.03
    assert errors["n_p"] < 0.02
    assert errors["z_px"] < 10.0


def test_refinement_from_the_estimates_meets_the_issue_tolerances(shipped, held_out) -> None:
    """Must-show 3, second half: a Lorenz–Mie fit (:func:`.refine.refine`, defaults) started from
    the CNN estimate at a centre 1 px off brings ≥ 95 % of the first 24 held-out particles within
    a_p 1 %, n_p 0.005 and z_p 1 % (measured 24 of 24, and 40 of 40; on 200 of the benchmark's 301×301
    holograms 98.5 %, 0.18 s a fit on one core)."""
    from engine.analysis.tracking.refine import refine

    crops, truth = held_out
    count = 24
    angle = np.random.default_rng(5).uniform(0, 2 * np.pi, count)
    centres = truth[["x", "y"]].to_numpy()[:count] + np.column_stack([np.cos(angle), np.sin(angle)])
    estimates = shipped.predict_crops(crops[:count], centres)
    inside = 0
    for k in range(count):
        fit = refine(crops[k], {"x": centres[k, 0], "y": centres[k, 1], "z": estimates.z_p[k],
                                "a_p": estimates.a_p[k], "n_p": estimates.n_p[k]}, MICROSCOPE, seed=k)
        true = truth.iloc[k]
        inside += bool(fit.success and abs(fit.values["a_p"] - true.a_p) <= 0.01 * true.a_p
                       and abs(fit.values["n_p"] - true.n_p) <= 0.005
                       and abs(fit.values["z"] - true.z_p) <= 0.01 * true.z_p)
    print(f"\nrefined from the CNN estimates: {inside} of {count} within the issue's tolerances")
    assert inside >= 0.95 * count


def test_predict_frame_matches_crops_and_refuses_another_instrument(shipped, held_out) -> None:
    crops, truth = held_out
    frame = np.ones((400, 500))
    frame[50:50 + SIDE, 200:200 + SIDE] = crops[0]
    centres = pd.DataFrame({"x": [200 + truth.x[0]], "y": [50 + truth.y[0]]})
    from_frame = shipped.predict_frame(frame, centres, instrument=MICROSCOPE)
    from_crop = shipped.predict_crops(crops[0], truth[["x", "y"]].to_numpy()[0])
    pd.testing.assert_frame_equal(from_frame, from_crop)
    assert list(from_frame.columns) == ["a_p", "n_p", "z_p"]
    assert len(shipped.predict_frame(frame, np.empty((0, 2)))) == 0
    with pytest.raises(ValueError, match="trained for"):
        shipped.predict_frame(frame, centres, instrument=Instrument(0.532, 0.048, 1.34))


# --- training, persistence -------------------------------------------------------------------------

def test_fit_is_seeded_and_learns() -> None:
    windows, table = training_windows(48, MICROSCOPE, seed=3)
    kwargs = dict(epochs=2, batch_size=16, random_state=4)
    losses: list[float] = []
    first = CNNEstimator(**kwargs).fit(windows, table, progress=lambda epoch, loss, _: losses.append(loss))
    second = CNNEstimator(**kwargs).fit(windows, table)
    other = CNNEstimator(**{**kwargs, "random_state": 5}).fit(windows, table)
    pd.testing.assert_frame_equal(first.predict(windows), second.predict(windows))
    assert not np.allclose(first.predict(windows).to_numpy(), other.predict(windows).to_numpy())
    assert len(losses) == 2 and np.all(np.isfinite(losses))


def test_save_load_round_trip(shipped, held_out, tmp_path) -> None:
    crops, truth = held_out
    path = shipped.save(tmp_path / "cnn.pt")
    loaded = load_cnn_estimator(path)
    pd.testing.assert_frame_equal(loaded.predict_crops(crops[:8]), shipped.predict_crops(crops[:8]))
    assert loaded.instrument == shipped.instrument == MICROSCOPE
    for column, bounds in {"a_p": (0.4, 2.0), "n_p": (1.38, 1.8), "z_p": (10.0, 40.0)}.items():   # issue 13
        assert loaded.ranges_[column] == pytest.approx(shipped.ranges_[column])
        assert shipped.ranges_[column] == pytest.approx(bounds, abs=0.01)
    record = torch.load(SHIPPED_ESTIMATOR, map_location="cpu", weights_only=True)       # nothing unpickled
    assert record["format"] == "matloop.tracking.cnn-estimator" and "recipe" in record
    assert SHIPPED_ESTIMATOR.stat().st_size < 2_000_000
    del record["ranges"]                                       # files without ranges: those of the recipe
    torch.save(record, tmp_path / "first.pt")
    assert load_cnn_estimator(tmp_path / "first.pt").ranges_["z_p"] == (10.0, 40.0)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("images, centres, message", [
    (np.ones(10), None, "frame \\(rows, columns\\) or a stack"),
    (np.ones((2, 0, 5)), None, "frame \\(rows, columns\\) or a stack"),
    (np.full((50, 50), np.nan), np.array([[3.0, 4.0]]), "finite"),
    (np.ones((50, 50), dtype=complex), np.array([[3.0, 4.0]]), "real numbers"),
    (np.ones((50, 50)), None, "needs centres"),
    (np.ones((50, 50)), np.array([[60.0, 4.0]]), "outside"),
    (np.ones((50, 50)), np.array([[np.nan, 4.0]]), "finite"),
    (np.ones((3, 50, 50)), np.ones((2, 2)), "one per crop"),
    (np.ones((50, 50)), np.ones((2, 3)), "shape"),
])
def test_network_input_rejects_bad_input(images, centres, message) -> None:
    with pytest.raises(ValueError, match=message):
        network_input(images, centres)


def test_estimator_rejects_bad_input(shipped, tmp_path) -> None:
    with pytest.raises(ValueError, match="not trained"):
        CNNEstimator().predict(np.ones((1, PIXELS, PIXELS)))
    with pytest.raises(ValueError, match="windows must have shape"):
        shipped.predict(np.ones((2, 64, 64)))
    with pytest.raises(ValueError, match="finite"):
        shipped.predict(np.full((1, PIXELS, PIXELS), np.inf))
    with pytest.raises(ValueError, match="columns x, y"):
        shipped.predict_frame(np.ones((300, 300)), pd.DataFrame({"col": [1.0]}))
    for settings, message in (({"epochs": 0}, "epochs"), ({"learning_rate": -1.0}, "learning_rate"),
                              ({"noise": (0.05, 0.01)}, "noise"), ({"instrument": "microscope"}, "Instrument")):
        with pytest.raises(ValueError, match=message):
            CNNEstimator(**settings)
    with pytest.raises(ValueError, match="count"):
        training_windows(0, MICROSCOPE)
    with pytest.raises(ValueError, match="columns"):
        model_windows(pd.DataFrame({"a_p": [1.0]}), MICROSCOPE)


def test_load_rejects_damaged_files(shipped, tmp_path) -> None:
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="not a CNN estimator file"):
        load_cnn_estimator(garbage)
    with pytest.raises(ValueError, match="not a CNN estimator file"):
        load_cnn_estimator(tmp_path / "missing.pt")
    other = tmp_path / "other.pt"
    torch.save({"format": "something else"}, other)
    with pytest.raises(ValueError, match="not a matloop CNN estimator"):
        load_cnn_estimator(other)
    record = shipped.to_dict()
    del record["network"]
    damaged = tmp_path / "damaged.pt"
    torch.save(record, damaged)
    with pytest.raises(ValueError, match="missing network"):
        load_cnn_estimator(damaged)
    record = shipped.to_dict()
    record["network"] = {k: v[..., :1] for k, v in record["network"].items()}                  # wrong sizes
    torch.save(record, damaged)
    with pytest.raises(ValueError, match="damaged"):
        load_cnn_estimator(damaged)
    pickled = tmp_path / "pickled.pt"                          # an arbitrary object: weights_only refuses it
    buffer = io.BytesIO()
    torch.save({"format": "matloop.tracking.cnn-estimator", "payload": io.StringIO}, buffer)
    pickled.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="not a CNN estimator file"):
        load_cnn_estimator(pickled)
