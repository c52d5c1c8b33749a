"""Hologram image files (issue 13, "App and CLI" and must-show 5): round trips and every refusal.

Truth is the array written: a normalised synthetic hologram written as a camera would record it
(8- or 16-bit counts, background at a known level) reads back to the same counts, and normalised
to the hologram within the quantisation step. Background normalisation is checked against an
uneven illumination known in closed form; median normalisation against the synthetic frames'
true background 1. Each bad input gets a ValueError whose message says what is wrong.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engine.analysis.tracking import Instrument, synthetic_frame
from engine.analysis.tracking.images import MAX_PIXELS, normalise, read_frames, write_frames

MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)


@pytest.fixture(scope="module")
def hologram() -> np.ndarray:
    """A 200×240 normalised hologram with two particles, 5 % noise (seed 3)."""
    frame, truth = synthetic_frame((200, 240), MICROSCOPE, particles=(2, 2), seed=3)
    assert len(truth) == 2
    return frame


def png_bytes(array: np.ndarray, mode: str | None = None, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(buffer, format=fmt)
    return buffer.getvalue()


# --- round trips ----------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("bits, level", [(8, 64), (16, 16384)])
def test_written_frames_read_back_to_the_same_counts_and_hologram(hologram, tmp_path, suffix, bits, level) -> None:
    path = write_frames(tmp_path / f"frame{suffix}", hologram, bits=bits)
    image = read_frames(path)
    expected = np.clip(np.rint(hologram * level), 0, 2**bits - 1)
    assert image.frames.shape == (1, 200, 240) and image.full_scale == 2**bits - 1
    assert f"{bits}-bit grey" in image.kind
    np.testing.assert_array_equal(image.frames[0], expected)
    # counts / background level recovers the hologram to half a count (dark fringes plus noise dip
    # below 0 at a few pixels: a camera records 0 there)
    np.testing.assert_allclose(image.frames[0] / level, np.clip(hologram, 0, None), atol=0.5 / level + 1e-12)
    normalised, how = normalise(image.frames[0])
    assert "median" in how
    # the median is the background level: within 1 % in this small frame crowded with fringes
    # (measured 0.84 %; module notes of images), plus the rounding of the median to a whole count
    assert abs(np.median(image.frames[0]) / level - 1) <= 0.01 + 0.5 / level
    np.testing.assert_allclose(normalised * np.median(image.frames[0]), image.frames[0], rtol=1e-12)


def test_multi_page_tiff_float_tiff_and_npy(hologram, tmp_path) -> None:
    stack = np.stack([hologram, hologram[::-1]])
    pages = read_frames(write_frames(tmp_path / "stack.tif", stack, bits=16))
    assert pages.frames.shape == (2, 200, 240) and any("2 pages" in n for n in pages.notes)
    np.testing.assert_array_equal(pages.frames[1], np.clip(np.rint(hologram[::-1] * 16384), 0, None))
    floats = read_frames(png_bytes(hologram.astype(np.float32), fmt="TIFF"), "f.tif")
    assert floats.full_scale is None and "32-bit float" in floats.kind
    np.testing.assert_array_equal(floats.frames[0], hologram.astype(np.float32))
    exact = read_frames(write_frames(tmp_path / "frames.npy", stack))
    np.testing.assert_array_equal(exact.frames, stack)


def test_background_normalisation_recovers_the_hologram_under_uneven_light(hologram) -> None:
    rows, cols = np.mgrid[0:200, 0:240]
    light = 3000.0 * np.exp(-((cols - 100.0) ** 2 + (rows - 90.0) ** 2) / (2 * 180.0**2))   # Gaussian beam, counts
    normalised, how = normalise(hologram * light, light)
    assert "background" in how
    np.testing.assert_allclose(normalised, hologram, rtol=1e-12)
    by_median, _ = normalise(hologram * light)
    assert np.max(np.abs(by_median - hologram)) > 0.1      # the median cannot undo uneven light


def test_rgb_with_equal_channels_is_grey_and_saturation_is_reported(hologram) -> None:
    grey = np.clip(np.rint(hologram * 100), 0, 255).astype(np.uint8)
    grey[0, :12] = 255
    image = read_frames(png_bytes(np.stack([grey] * 3, axis=-1)), "rgb.png")
    np.testing.assert_array_equal(image.frames[0], grey)
    assert any("equal colour channels read as grey" in n for n in image.notes)
    assert any("saturated (at 255)" in n for n in image.notes)


# --- refusals -------------------------------------------------------------------------------------

def bad_inputs(hologram: np.ndarray) -> list[tuple[str, bytes, str]]:
    grey = np.clip(np.rint(hologram * 100), 0, 255).astype(np.uint8)
    colour = np.stack([grey, grey, np.roll(grey, 3, axis=1)], axis=-1)
    transparent = np.dstack([grey, grey, grey, np.full_like(grey, 128)])
    npy = io.BytesIO()
    np.save(npy, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    cases = [
        ("notes.png", b"hello, this is a text file", "is not a PNG, TIFF or NumPy .npy image"),
        ("empty.png", b"", "is empty"),
        ("pixel.png", png_bytes(np.array([[7]], dtype=np.uint8)), "is 1×1 px; a hologram needs at least 32×32"),
        ("line.png", png_bytes(np.ones((1, 500), dtype=np.uint8)), "is 1×500 px"),
        ("binary.png", png_bytes(grey > 100), "1-bit (black and white)"),
        ("palette.png", png_bytes(grey, fmt="PNG") and _palette(grey), "palette (indexed colour)"),
        ("colour.png", png_bytes(colour), "channels differ"),
        ("alpha.png", png_bytes(transparent), "transparent pixels"),
        ("cut.png", png_bytes(grey)[:200], "damaged"),
        ("nan.tif", png_bytes(np.where(np.eye(200, 240) > 0, np.nan, hologram).astype(np.float32), fmt="TIFF"),
         "200 pixels that are NaN or infinite"),
        ("huge.png", png_bytes(np.zeros((2100, 2100), dtype=np.uint8)), "at most 4.2 megapixels"),
        ("objects.npy", npy.getvalue(), "holds Python objects"),
        ("flags.npy", _npy(hologram > 1), "holds bool values"),
        ("complex.npy", _npy(hologram.astype(complex)), "holds complex128 values"),
        ("volume.npy", _npy(np.ones((2, 2, 40, 40))), "has shape (2, 2, 40, 40)"),
        ("nan.npy", _npy(np.full((40, 40), np.nan)), "1600 pixels that are NaN"),
    ]
    return cases


def _palette(grey: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(grey).convert("P").save(buffer, format="PNG")
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_every_bad_image_gets_a_message_naming_the_file(hologram) -> None:
    assert 2100 * 2100 > MAX_PIXELS
    for name, data, message in bad_inputs(hologram):
        with pytest.raises(ValueError) as caught:
            read_frames(data, name)
        assert str(caught.value).startswith(name) and message in str(caught.value), (name, str(caught.value))


def test_bad_files_and_normalisations(hologram, tmp_path) -> None:
    with pytest.raises(ValueError, match="missing.png: no such file"):
        read_frames(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="is not a file"):
        read_frames(tmp_path)
    with pytest.raises(ValueError, match="is dark"):
        normalise(np.zeros((40, 40)))
    with pytest.raises(ValueError, match="background image is 40×50 px but the frame is 40×40 px"):
        normalise(np.ones((40, 40)), np.ones((40, 50)))
    background = np.ones((40, 40))
    background[3, 4] = 0
    with pytest.raises(ValueError, match="1 pixels at or below 0"):
        normalise(np.ones((40, 40)), background)
    with pytest.raises(ValueError, match="a PNG holds one frame"):
        write_frames(tmp_path / "two.png", np.ones((2, 40, 40)))
    with pytest.raises(ValueError, match="ending in .png, .tif, .tiff or .npy"):
        write_frames(tmp_path / "frame.jpg", np.ones((40, 40)))
