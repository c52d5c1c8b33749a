"""CNN detector of particles in holograms (issue 13, must-show 2), its training data and refinement.

Truth from outside the code under test: the Lorenz–Mie hologram of :func:`.hologram.hologram`
(the fast generator must equal it), exact ring patterns with known centres, finite differences
of the ring coherence, and held-out frames drawn exactly as the issue and the benchmark draw them
(:func:`.synthetic.synthetic_frame`, the reference hologram, 5 % noise; seeds the training never
saw: it used :func:`.binned_hologram.binned_frames` with seed 1000), matched order-free.

Bar of the issue: misses and false alarms ≤ 1 % each and in-plane error ≤ 1 px. The full
measurement (hundreds of frames) is ``tests/benchmarks/bench_tracking_detection.py``; here a
handful of frames (16 particles) must come out with every particle within 1 px and no false
alarm, plus the hardest single cases: the faintest particle of the ranges at the frame's edge
and in a corner, and a faint particle next to a strong one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from engine.analysis.tracking import Instrument, hologram, synthetic_frame
from engine.analysis.tracking.binned_hologram import binned_frames, binned_hologram, block_mean
from engine.analysis.tracking.cnn_detector import (SHIPPED_DETECTOR, CNNDetector, load_detector,
                                                   load_shipped_detector, locate_cnn)
from engine.analysis.tracking.detection import DETECTION_COLUMNS
from engine.analysis.tracking.matching import score_detections
from engine.analysis.tracking.ring_centre import ring_centres, ring_coherence

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)
SHAPE = (1024, 1280)


@pytest.fixture(scope="module")
def detector() -> CNNDetector:
    return load_shipped_detector()


def _particles(*rows: tuple[float, float, float, float, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["x", "y", "z", "a_p", "n_p"])


# --- the fast generator ----------------------------------------------------------------------------

def test_fast_hologram_equals_the_reference_hologram() -> None:
    """Several spheres (one cut by the edge, one outside the frame, cross terms included): the
    float32 radial-table sum equals :func:`hologram` to 2e-5 (measured 6e-6), block means too."""
    spheres = _particles((40.3, 60.7, 12.0, 1.9, 1.78), (200.2, 150.9, 35.0, 0.45, 1.39), (0.0, 250.5, 20.0, 1.0, 1.55),
                         (-30.0, -20.0, 25.0, 1.2, 1.6))
    reference = hologram((256, 320), spheres, MICROSCOPE)
    fast = binned_hologram((256, 320), spheres, MICROSCOPE)
    assert fast.shape == (256, 320)
    assert np.max(np.abs(fast - reference)) < 2e-5
    assert np.max(np.abs(binned_hologram((256, 320), spheres, MICROSCOPE, binning=4)
                         - block_mean(reference, 4))) < 2e-5
    assert np.ptp(reference) > 0.5                                     # the test is not trivially flat


def test_fast_hologram_any_polarisation_and_alpha() -> None:
    """A complex Jones vector and α ≠ 1 give the reference hologram too."""
    instrument = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34, polarization=(1.0, 0.5j))
    spheres = _particles((60.2, 50.4, 15.0, 1.2, 1.6), (30.0, 90.0, 25.0, 0.8, 1.45))
    reference = hologram((128, 128), spheres, instrument, alpha=0.8)
    assert np.max(np.abs(binned_hologram((128, 128), spheres, instrument, alpha=0.8) - reference)) < 2e-5
    assert np.all(binned_hologram((64, 64), spheres.iloc[:0], MICROSCOPE) == 1.0)


def test_training_frames_are_seeded_and_block_averaged() -> None:
    frames, truth = binned_frames(3, (128, 256), MICROSCOPE, binning=4, particles=(1, 2), seed=5)
    again, truth_again = binned_frames(3, (128, 256), MICROSCOPE, binning=4, particles=(1, 2), seed=5)
    assert frames.shape == (3, 32, 64) and frames.dtype == np.float16
    assert np.array_equal(frames, again) and truth.equals(truth_again)
    assert list(truth.columns) == ["frame", "x", "y", "z", "a_p", "n_p"]
    first = truth[truth["frame"] == 0]
    reference = block_mean(hologram((128, 256), first, MICROSCOPE), 4) - 1.0
    assert np.max(np.abs(frames[0] - reference)) < 1e-3                # float16 storage


def test_generator_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="multiple of binning"):
        binned_hologram((100, 128), _particles(), MICROSCOPE, binning=8)
    with pytest.raises(ValueError, match="binning"):
        binned_hologram((128, 128), _particles(), MICROSCOPE, binning=0)
    with pytest.raises(ValueError, match="count"):
        binned_frames(0, (128, 128), MICROSCOPE)


# --- refinement ------------------------------------------------------------------------------------

def test_ring_coherence_gradient_equals_finite_differences() -> None:
    """With the voting disk held fixed (anchored), the closed-form gradient is the derivative."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:160, 0:160].astype(float)
    image = np.cos(np.hypot(xx - 80.3, yy - 79.6) / 3.0) + rng.normal(0, 0.5, (160, 160))
    for x, y, anchor in ((81.7, 78.2, (81.0, 78.0)), (80.9, 80.1, (80.0, 80.0)), (5.2, 70.4, (6.0, 70.0))):
        value, gradient = ring_coherence(image, x, y, 60, 0.5, anchor)
        step = 1e-5
        numeric = [(ring_coherence(image, x + step, y, 60, 0.5, anchor)[0]
                    - ring_coherence(image, x - step, y, 60, 0.5, anchor)[0]) / (2 * step),
                   (ring_coherence(image, x, y + step, 60, 0.5, anchor)[0]
                    - ring_coherence(image, x, y - step, 60, 0.5, anchor)[0]) / (2 * step)]
        assert value > 0
        np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-6 * abs(value))


@pytest.mark.parametrize("centre", [(640.3, 500.2), (1276.93, 347.45), (5.6, 1020.1)])
def test_exact_rings_are_centred_exactly_also_at_the_edge(centre: tuple[float, float]) -> None:
    """Circular chirp (a point scatterer's fringes, 30 µm deep) centred in the frame, 2 px from
    an edge, in a corner region: the refined centre is the true one to 0.02 px from 6 px off."""
    x, y = centre
    yy, xx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]].astype(float)
    k = MICROSCOPE.wavenumber
    rho, kz = np.hypot(xx - x, yy - y) * k * MICROSCOPE.magnification, k * 30.0
    image = 1.0 + 0.05 * np.cos(rho**2 / (np.sqrt(rho**2 + kz**2) + kz) + 0.7) * kz / np.hypot(rho, kz)
    refined = ring_centres(image, np.array([[x - 4.0, y + 4.5]]))[0]
    assert np.hypot(*(refined - centre)) < 0.02


def test_faintest_particle_is_located_to_half_a_pixel() -> None:
    """a_p 0.4 µm, n_p 1.38, z 40 µm (peak |b − 1| ≈ 0.02) in 5 % noise, three noise draws."""
    truth = _particles((300.4, 280.7, 40.0, 0.4, 1.38))
    clean = binned_hologram((640, 640), truth, MICROSCOPE)
    rng = np.random.default_rng(7)
    for _ in range(3):
        image = clean + rng.normal(0, 0.05, clean.shape)
        refined = ring_centres(image, np.array([[305.0, 276.0]]))[0]
        assert np.hypot(refined[0] - 300.4, refined[1] - 280.7) < 0.5


def test_ring_centres_rejects_bad_starts() -> None:
    with pytest.raises(ValueError, match="finite"):
        ring_centres(np.ones((64, 64)), np.array([[np.nan, 3.0]]))
    with pytest.raises(ValueError, match="at least 4 px"):
        ring_centres(np.ones((64, 64)), np.array([[30.0, 30.0]]), radius=2)
    assert ring_centres(np.ones((64, 64)), np.zeros((0, 2))).shape == (0, 2)


# --- the shipped detector --------------------------------------------------------------------------

def test_shipped_detector_finds_every_particle_within_a_pixel(detector: CNNDetector) -> None:
    """Four held-out frames of the issue with 3–4 particles each (the reference hologram, 5 %
    noise): every particle within 1 px, no false alarm; the crop sizes are the classical ones."""
    rng = np.random.default_rng(20240613)
    truths, found = [], []
    for frame in range(4):
        image, truth = synthetic_frame(SHAPE, MICROSCOPE, particles=(3, 4), noise=0.05, seed=rng)
        table = detector.locate(image)
        assert list(table.columns) == list(DETECTION_COLUMNS)
        assert np.all(table["size"] % 2 == 1) and np.all(table["size"].between(101, 401))
        truths.append(truth.assign(frame=frame))
        found.append(table.assign(frame=frame))
    score = score_detections(pd.concat(found, ignore_index=True), pd.concat(truths, ignore_index=True), radius=1.0)
    print(f"\n{score.particles} particles: missed {score.false_negatives}, false {score.false_positives}, "
          f"rms {score.rms_error:.3f} px, largest {score.errors.max():.3f} px")
    assert score.particles >= 14
    assert score.false_negatives == 0 and score.false_positives == 0


def test_faint_particles_at_the_edge_and_beside_a_strong_one(detector: CNNDetector) -> None:
    """The faintest particle of the ranges cut in half by the left edge, a faint one 3 px from the
    top edge, and a faint one 120 px from a strong shallow one (2 µm, n_p 1.8, 10 µm): all found
    within 1 px. (Measured, 16 draws of the faintest particle 0–10 px from an edge: all found,
    0.57 px rms, largest 0.87 px. Within ~10 px of a corner the ring model sees a quarter disk and
    the faintest particles come out 1–3 px off; 0.03 % of the issue's particles lie there.)"""
    truth = _particles((0.6, 400.3, 40.0, 0.4, 1.38), (640.5, 3.2, 35.0, 0.5, 1.40),
                       (700.4, 300.2, 10.0, 2.0, 1.8), (800.7, 380.9, 30.0, 0.45, 1.40))
    image = binned_hologram(SHAPE, truth, MICROSCOPE) + np.random.default_rng(3).normal(0, 0.05, SHAPE)
    score = score_detections(detector.locate(image), truth, radius=1.0)
    assert score.false_negatives == 0 and score.false_positives == 0


def test_empty_frame_gives_an_empty_table(detector: CNNDetector) -> None:
    image = 1.0 + np.random.default_rng(1).normal(0, 0.05, SHAPE)
    table = locate_cnn(image, detector=detector)
    assert table.empty and list(table.columns) == list(DETECTION_COLUMNS)


def test_odd_sized_frames_are_padded(detector: CNNDetector) -> None:
    truth = _particles((250.3, 180.6, 20.0, 1.0, 1.5))
    image = hologram((300, 500), truth, MICROSCOPE) + np.random.default_rng(2).normal(0, 0.05, (300, 500))
    heat, candidates = detector.heatmap(image)
    assert heat.shape == (384 // 16, 512 // 16)
    table = detector.locate(image)
    assert len(table) == 1 and np.hypot(table["x"][0] - 250.3, table["y"][0] - 180.6) < 1.0


def test_shipped_file_round_trip(tmp_path, detector: CNNDetector) -> None:
    """The file holds tensors and plain values only (weights_only) and survives save → load."""
    record = torch.load(SHIPPED_DETECTOR, map_location="cpu", weights_only=True)
    assert record["format"] == "matloop.tracking.cnn-detector"
    assert SHIPPED_DETECTOR.stat().st_size < 1_000_000
    path = detector.save(tmp_path / "detector.pt")
    again = load_detector(path)
    assert again.settings() == detector.settings()
    for name, tensor in detector.network_.state_dict().items():
        assert torch.equal(tensor, again.network_.state_dict()[name])
    image = 1.0 + np.random.default_rng(4).normal(0, 0.05, (256, 256))
    assert np.array_equal(detector.heatmap(image)[0], again.heatmap(image)[0])


def test_damaged_or_foreign_files_are_refused(tmp_path) -> None:
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="not a detector file"):
        load_detector(tmp_path / "junk.pt")
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a matloop CNN detector"):
        load_detector(tmp_path / "other.pt")


@pytest.mark.parametrize("image, message", [
    (np.ones((3, 128, 128)), "2D"),
    (np.ones(128), "2D"),
    (np.ones((32, 400)), "at least 64"),
    (np.full((128, 128), np.nan), "NaN"),
    ("a string", "2D array of numbers"),
])
def test_bad_images_get_clear_messages(detector: CNNDetector, image: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        detector.locate(image)  # type: ignore[arg-type]


def test_bad_settings_and_untrained_use_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CNNDetector(threshold=1.5)
    with pytest.raises(ValueError, match="binning"):
        CNNDetector(binning=6)
    with pytest.raises(ValueError, match="not trained"):
        CNNDetector().locate(np.ones((128, 128)))
    with pytest.raises(ValueError, match="frame_binning"):
        CNNDetector().fit(np.zeros((1, 32, 32)), pd.DataFrame({"frame": [], "x": [], "y": []}), frame_binning=3)


def test_training_learns_a_particle_from_few_frames() -> None:
    """A tiny training run (24 frames of 256×256, one particle each, 200 steps at binning 4):
    the heatmap then peaks within one cell of a held-out particle; same seed, same weights."""
    frames, truth = binned_frames(24, (256, 256), MICROSCOPE, binning=4, particles=(1, 1), seed=11,
                                  a_range=(1.0, 1.5), z_range=(15.0, 20.0), n_range=(1.5, 1.6), margin=40.0)
    settings = dict(binning=4, widths=(8, 8, 8, 8, 8), steps=200, batch_size=4, learning_rate=5e-3,
                    noise=(0.03, 0.03), random_state=3, threshold=0.2)
    detector = CNNDetector(**settings).fit(frames, truth)
    assert len(detector.loss_curve_) == 2 and detector.loss_curve_[-1] < detector.loss_curve_[0]
    held_out = _particles((140.2, 97.8, 17.0, 1.2, 1.55))
    image = binned_hologram((256, 256), held_out, MICROSCOPE) + np.random.default_rng(0).normal(0, 0.03, (256, 256))
    _, candidates = detector.heatmap(image)
    assert len(candidates) >= 1
    assert np.hypot(candidates["x"][0] - 140.2, candidates["y"][0] - 97.8) < 2 * detector.cell
    again = CNNDetector(**settings).fit(frames, truth)
    for name, tensor in detector.network_.state_dict().items():
        assert torch.equal(tensor, again.network_.state_dict()[name])
