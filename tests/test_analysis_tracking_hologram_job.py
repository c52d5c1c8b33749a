"""The ``characterise-hologram`` job through the store: a generated frame, an uploaded camera image
with its background, and refusals (issue 13, "App and CLI", must-show 5).

Truth is synthetic: the job's own seeded frame, and a hologram written as 16-bit counts under an
uneven (Gaussian) illumination whose image is uploaded as the background.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from engine.analysis.tracking import Instrument, synthetic_frame
from engine.analysis.tracking.hologram_job import JOB_KIND, hologram_job, stage_upload
from engine.analysis.tracking.pipeline import compare_with_truth
from engine.runtime.jobkinds import job_function
from engine.runtime.jobs import run_job
from engine.store import JobRecord, Store

MICROSCOPE = {"wavelength": 0.447, "magnification": 0.048, "n_m": 1.34}


def run(store: Store, params: dict) -> JobRecord:
    """Record a job, run it here to its end, return its record."""
    job_id = store.create_job(JOB_KIND, params)
    run_job(store, job_id, job_function(JOB_KIND), params)
    return store.get_job(job_id)


def png16(counts: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.rint(counts), 0, 65535).astype(np.uint16)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_job_kind_is_registered() -> None:
    assert job_function(JOB_KIND) is hologram_job


def test_a_generated_frame_is_characterised_and_stored(store_dir: Path) -> None:
    store = Store(store_dir)
    params = {"source": {"generate": {"shape": [256, 256], "particles": [1, 1], "seed": 2}}, "instrument": MICROSCOPE,
              "options": {"max_crop": 201}}
    job = run(store, params)
    assert job.status == "done", job.error
    result = job.result
    print(f"\njob on a generated 256×256 frame: {result['truth']}, {result['timing']}")
    assert result["particles"] == result["fitted"] == 1
    assert result["truth"]["within"] == 1 and result["truth"]["false"] == 0
    table = pd.read_csv(result["paths"]["table"])
    frame = np.load(result["paths"]["frame"], allow_pickle=False)
    truth = pd.read_csv(result["paths"]["truth"])
    assert frame.shape == (256, 256) and frame.dtype == np.float32 and len(truth) == 1
    assert table.loc[0, "size"] <= 201 and bool(table.loc[0, "success"])
    assert (result["options"]["detector"], result["options"]["estimator"]) == ("cnn", "cnn")    # auto, recorded
    assert "estimator: cnn (the shipped network, trained for this microscope)" in result["methods"]
    assert result["instrument"] == MICROSCOPE
    assert job.message == "finished" and job.progress == 1.0


def test_an_uploaded_camera_image_is_normalised_by_its_background(store_dir: Path) -> None:
    """16-bit counts under a Gaussian beam (±25 % across the frame): the background image undoes it."""
    instrument = Instrument(**MICROSCOPE)
    hologram, truth = synthetic_frame((256, 256), instrument, particles=(1, 1), seed=2)
    rows, cols = np.mgrid[0:256, 0:256]
    light = 20000.0 * np.exp(-((cols - 90.0) ** 2 + (rows - 160.0) ** 2) / (2 * 300.0**2))
    store = Store(store_dir)
    source, info = stage_upload(store.path, "cell.png", png16(hologram * light), ("light.png", png16(light)))
    assert info["shape"] == [256, 256] and "background image" in info["normalisation"] and "16-bit" in info["kind"]
    job = run(store, {"source": source, "instrument": MICROSCOPE, "options": {"max_crop": 201}})
    assert job.status == "done", job.error
    table = pd.read_csv(job.result["paths"]["table"])
    scores = compare_with_truth(table, truth)
    assert scores["within"] == 1 and scores["false"] == 0, (scores, table.to_dict("records"))
    assert "truth" not in job.result and "truth" not in job.result["paths"]


def test_bad_uploads_and_sources_are_refused_with_clear_messages(store_dir: Path) -> None:
    store = Store(store_dir)
    frame = png16(np.full((64, 64), 1000.0))
    with pytest.raises(ValueError, match=r"notes\.png is not a PNG, TIFF or NumPy \.npy image"):
        stage_upload(store.path, "notes.png", b"just some text")
    with pytest.raises(ValueError, match=r"photo\.jpg: unknown image format 'jpg'; allowed: \.png, \.tif"):
        stage_upload(store.path, "photo.jpg", frame)
    with pytest.raises(ValueError, match=r"empty\.tif is empty"):
        stage_upload(store.path, "empty.tif", b"")
    with pytest.raises(ValueError, match="background image is 32×32 px but frame.png is 64×64 px"):
        stage_upload(store.path, "frame.png", frame, ("small.png", png16(np.full((32, 32), 1000.0))))
    with pytest.raises(ValueError, match=r"dark\.png is dark \(median 0\)"):
        stage_upload(store.path, "dark.png", png16(np.zeros((64, 64))))
    bad = run(store, {"source": {"generate": {"shape": [8, 8]}}, "instrument": MICROSCOPE})
    assert bad.status == "failed" and "at least 64×64 px" in bad.error
    negative = run(store, {"source": {"generate": {}}, "instrument": {**MICROSCOPE, "wavelength": -0.447}})
    assert negative.status == "failed" and "wavelength must be a positive finite number" in negative.error
