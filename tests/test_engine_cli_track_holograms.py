"""``matloop track generate-holograms`` and ``matloop track holograms``: frames written as a camera
would record them, characterised headless, compared with the generator's truth table (issue 13).

Truth from outside the analysis: the seeded synthetic particles in ``truth.csv``; the 16-bit PNG
frames carry them only as quantised counts, normalised by each frame's median.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.analysis.tracking.images import read_frames
from engine.analysis.tracking.pipeline import compare_with_truth
from engine.cli import main

MICROSCOPE = ["--wavelength", "0.447", "--magnification", "0.048", "--medium-index", "1.34"]


def test_generated_png_frames_are_characterised_within_the_issue_tolerances(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames, out = tmp_path / "frames", tmp_path / "particles.csv"
    assert main(["track", "generate-holograms", "--out", str(frames), "--frames", "2", "--shape", "256x288",
                 "--particles", "1", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 2 frames (256×288 px, 16-bit)" in printed and "matloop track holograms" in printed
    files = sorted(frames.glob("frame_*.png"))
    assert [f.name for f in files] == ["frame_000.png", "frame_001.png"]
    assert read_frames(files[0]).kind == "PNG, 16-bit grey"
    assert main(["track", "holograms", *map(str, files), *MICROSCOPE, "--max-crop", "201", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 frame(s) from 2 file(s)" in printed and "each normalised by its median" in printed
    assert "detector cnn, estimator cnn (detector: cnn (the shipped network, trained for this microscope)" in printed
    assert "2 particles in 2 frame(s), 2 fitted" in printed and f"wrote {out}: 2 rows" in printed
    table = pd.read_csv(out)
    assert table["frame"].tolist() == [0, 1] and table["file"].tolist() == [str(f) for f in files]
    assert {"x", "y", "z", "a_p", "n_p", "a_p_err", "chi2", "success", "size", "a_p_estimate"} <= set(table.columns)
    truth = pd.read_csv(frames / "truth.csv")
    for k in (0, 1):
        scores = compare_with_truth(table[table["frame"] == k].reset_index(drop=True),
                                    truth[truth["frame"] == k].reset_index(drop=True))
        print(f"\nframe {k}: {scores}")
        assert scores["within"] == 1 and scores["false"] == 0


def test_npy_and_tiff_frames_and_estimates_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("npy", "tif"):
        folder = tmp_path / fmt
        assert main(["track", "generate-holograms", "--out", str(folder), "--frames", "1", "--shape", "128x128",
                     "--particles", "1", "--format", fmt, "--bits", "8", "--seed", "1"]) == 0
        (frame,) = folder.glob(f"frame_*.{fmt}")
        assert main(["track", "holograms", str(frame), *MICROSCOPE, "--no-refine", "--detector",
                     "orientation-alignment", "--estimator", "svr"]) == 0
        printed = capsys.readouterr().out
        assert "1 particles in 1 frame(s), 0 fitted" in printed and "not refined" in printed
        assert "detector orientation-alignment, estimator svr\n" in printed
    exact = np.load(tmp_path / "npy" / "frame_000.npy", allow_pickle=False)
    assert exact.dtype == np.float64 and exact.shape == (128, 128)


@pytest.mark.parametrize(("arguments", "message"), [
    (["holograms", "FRAME", "--wavelength", "-0.447", "--magnification", "0.048", "--medium-index", "1.34"],
     "--wavelength must be a finite number > 0 (µm), got -0.447"),
    (["holograms", "FRAME", "--wavelength", "0.447", "--magnification", "0", "--medium-index", "1.34"],
     "--magnification must be a finite number > 0 (µm per px), got 0"),
    (["holograms", "NOTES", *MICROSCOPE], "notes.png is not a PNG, TIFF or NumPy .npy image"),
    (["holograms", "MISSING", *MICROSCOPE], "missing.png: no such file"),
    (["holograms", "FRAME", *MICROSCOPE, "--background", "SMALL"], "is 64×64 px but the background"),
    (["holograms", "FRAME", *MICROSCOPE, "--output", "FRAME"], "give a file name ending in .csv"),
    (["holograms", "FRAME", *MICROSCOPE, "--max-crop", "5"], "--max-crop must be 101 to 801 px, got 5"),
    (["holograms", "FRAME", "--wavelength", "0.532", "--magnification", "0.1", "--medium-index", "1.33", "--detector",
      "cnn"], "the shipped CNN detector was trained for λ = 0.447 µm"),
    (["generate-holograms", "--out", "OUT", "--noise", "-1"], "--noise must be 0 to 1"),
    (["generate-holograms", "--out", "FRAME"], "is a file; give a directory"),
])
def test_bad_input_is_one_line_and_exit_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                arguments: list[str], message: str) -> None:
    from engine.analysis.tracking.images import write_frames

    frame = write_frames(tmp_path / "frame.png", np.ones((64, 64)))
    names = {"FRAME": str(frame), "NOTES": str(tmp_path / "notes.png"), "MISSING": str(tmp_path / "missing.png"),
             "SMALL": str(write_frames(tmp_path / "small.png", np.ones((48, 48)))), "OUT": str(tmp_path / "out")}
    (tmp_path / "notes.png").write_text("not an image")
    assert main(["track", *[names.get(a, a) for a in arguments]]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("matloop: error: ") and message in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.err.count("\n") == 1


def test_the_method_names_match_the_pipeline() -> None:
    from engine.analysis.tracking.pipeline import DETECTORS, ESTIMATORS
    from engine.cli.track_holograms import DETECTOR_NAMES, ESTIMATOR_NAMES

    assert DETECTOR_NAMES == tuple(DETECTORS) and ESTIMATOR_NAMES == tuple(ESTIMATORS)


@pytest.mark.parametrize("action", ["holograms", "generate-holograms"])
@pytest.mark.parametrize(("optics", "message"), [
    (["--wavelength", "447"], "--wavelength 447 µm is outside the plausible range 0.2 to 2 µm (vacuum wavelength of "
                              "a visible or near-infrared laser): did you give nm? (447 nm = 0.447 µm)"),
    (["--magnification", "48"], "--magnification 48 µm/px is outside the plausible range 0.005 to 1 µm per pixel"),
    (["--medium-index", "0.5"], "--medium-index 0.5 is outside the plausible range 1 to 2 for the refractive index "
                                "of the medium"),
])
def test_implausible_optics_are_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        action: str, optics: list[str], message: str) -> None:
    """48 µm/px (meant 0.048) hung in the fits, n_m 0.5 took minutes, 447 (nm) exited 0 with bad rows."""
    settings = dict(zip(MICROSCOPE[::2], MICROSCOPE[1::2])) | dict(zip(optics[::2], optics[1::2]))
    given = [item for pair in settings.items() for item in pair]
    target = [str(tmp_path / "missing.png")] if action == "holograms" else ["--out", str(tmp_path / "out")]
    assert main(["track", action, *target, *given]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("matloop: error: ") and message in captured.err, captured.err
    assert captured.err.count("\n") == 1 and not (tmp_path / "out").exists()
    if "48" in optics:
        assert "did you give nm per pixel (48 nm/px = 0.048 µm/px)" in captured.err


def test_generate_holograms_names_its_seed_option_and_describes_its_microscope(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["track", "generate-holograms", "--out", str(tmp_path / "out"), "--seed", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "matloop: error: --seed must be an integer >= 0, got -1"
    with pytest.raises(SystemExit):
        main(["track", "generate-holograms", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "issue" not in text and "447 nm (blue) laser, 0.048 µm per camera pixel" in text
