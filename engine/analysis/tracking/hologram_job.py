"""Characterisation of a hologram as a background job (kind ``characterise-hologram``), and uploads.

The app hands the job where the frame comes from — a seeded synthetic frame
(:func:`.synthetic.synthetic_frame`, with its truth) or an image staged by :func:`stage_upload`
(PNG, TIFF or ``.npy``, optionally with a background image; :mod:`.images`) — the microscope
(wavelength µm, magnification µm/px, medium index) and the options of
:class:`.pipeline.PipelineOptions`. The job runs :func:`.pipeline.characterise_frame` with
progress per particle and writes, beside the store in ``<store dir>/holograms/``:

* ``<job id>.csv`` — the particle table (:data:`.pipeline.RESULT_COLUMNS`);
* ``<job id>-frame.npy`` — the normalised frame (float32), for the page's overlay;
* ``<job id>-truth.csv`` — for a synthetic frame, the true particles.

It returns a JSON summary: counts, how the frame was read and normalised, notes, step times,
and for a synthetic frame the comparison with the truth (:func:`.pipeline.compare_with_truth`).
Estimators trained for other microscopes are kept in ``<store dir>/holograms/estimators``.
Uploads are kept as ``<store dir>/holograms/uploads/<sha256 prefix>.<suffix>`` and read as data
only (:mod:`.images`; never unpickled).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..uploads import keep_upload
from .images import IMAGE_FORMATS, normalise, read_frames
from .instrument import Instrument
from .pipeline import PipelineOptions, Timing, characterise_frame, compare_with_truth, resolved_options
from .synthetic import synthetic_frame

__all__ = ["JOB_KIND", "MAX_GENERATED_PIXELS", "MAX_UPLOAD_BYTES", "UPLOAD_FORMATS", "hologram_job",
           "instrument_from", "load_frame", "results_directory", "stage_upload"]

#: Job kind (engine.runtime.jobkinds).
JOB_KIND = "characterise-hologram"
#: Largest image file accepted from the app (bytes).
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
#: Suffixes the page accepts.
UPLOAD_FORMATS = IMAGE_FORMATS
#: Largest synthetic frame, pixels (the issue's 1024 × 1280).
MAX_GENERATED_PIXELS = 1024 * 1280


def results_directory(store_path: str | Path) -> Path:
    """``<store dir>/holograms``, created if missing."""
    directory = Path(store_path).parent / "holograms"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def instrument_from(spec: dict[str, Any]) -> Instrument:
    """The microscope of a job: ``{"wavelength": µm, "magnification": µm/px, "n_m": index}``."""
    if not isinstance(spec, dict):
        raise ValueError(f"the instrument must be given as wavelength, magnification and n_m; got {spec!r}")
    missing = [k for k in ("wavelength", "magnification", "n_m") if k not in spec]
    if missing:
        raise ValueError(f"the instrument needs {', '.join(missing)}")
    return Instrument(spec["wavelength"], spec["magnification"], spec["n_m"])


def stage_upload(store_path: str | Path, filename: str, data: bytes,
                 background: tuple[str, bytes] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep an uploaded hologram (and background) beside the store; read and normalise it once.

    Parameters
    ----------
    store_path : path-like
        The store's SQLite file.
    filename : str
        The name the user gave the file; PNG, TIFF or ``.npy`` (the content decides).
    data : bytes
        File contents, at most :data:`MAX_UPLOAD_BYTES`.
    background : (str, bytes), optional
        Name and contents of a background image (same size, no particles).

    Returns
    -------
    source : dict
        The job source: ``{"file", "name"[, "background", "background_name"]}``.
    info : dict
        What was read: ``shape``, ``kind``, ``frames``, ``normalisation``, ``notes``.

    Raises
    ------
    ValueError
        Too large, an unknown suffix, or an image :mod:`.images` refuses (the message names the
        file as the user called it).
    """
    directory = results_directory(store_path) / "uploads"
    path = _keep(directory, filename, data)
    source: dict[str, Any] = {"file": str(path), "name": filename}
    if background is not None:
        name, content = background
        source.update(background=str(_keep(directory, name, content)), background_name=name)
    _, _, info = load_frame(source)
    return source, info


def _keep(directory: Path, filename: str, data: bytes) -> Path:
    try:
        return keep_upload(directory, filename, data, UPLOAD_FORMATS, MAX_UPLOAD_BYTES)
    except ValueError as exc:
        raise ValueError(str(exc).replace("configuration format", "image format")) from None


def load_frame(source: dict[str, Any], instrument: Instrument | None = None
               ) -> tuple[np.ndarray, pd.DataFrame | None, dict[str, Any]]:
    """The normalised frame a job source names, its truth (synthetic frames) and a description.

    Parameters
    ----------
    source : dict
        ``{"generate": {shape, particles, a_range, n_range, z_range, noise, min_separation,
        seed}}`` (needs ``instrument``) or ``{"file": path, "name": str[, "background": path,
        "background_name": str]}``.
    instrument : Instrument, optional

    Returns
    -------
    frame : ndarray of float, shape (rows, columns)
    truth : pandas.DataFrame or None
        Columns ``x, y, z, a_p, n_p`` for a synthetic frame.
    info : dict
        ``shape``, ``kind``, ``frames``, ``normalisation``, ``notes``.

    Raises
    ------
    ValueError
        A source of neither kind, bad generator settings, or an image that cannot be used.
    """
    if "generate" in source:
        if instrument is None:
            raise ValueError("a synthetic frame needs the instrument")
        spec = dict(source["generate"])
        shape = tuple(int(v) for v in spec.pop("shape", (512, 512)))
        if len(shape) != 2 or min(shape) < 64 or shape[0] * shape[1] > MAX_GENERATED_PIXELS:
            raise ValueError(f"a synthetic frame must be at least 64×64 px and at most {MAX_GENERATED_PIXELS:,} "
                             f"pixels; got {shape}")
        particles = spec.pop("particles", 3)
        particles = tuple(particles) if isinstance(particles, (list, tuple)) else int(particles)
        ranges = {k: tuple(spec.pop(k)) for k in ("a_range", "n_range", "z_range") if k in spec}
        frame, truth = synthetic_frame(shape, instrument, particles=particles, noise=float(spec.pop("noise", 0.05)),
                                       min_separation=float(spec.pop("min_separation", 0.0)),
                                       margin=float(spec.pop("margin", 0.0)), seed=int(spec.pop("seed", 0)), **ranges)
        if spec:
            raise ValueError(f"unknown synthetic frame settings: {', '.join(sorted(spec))}")
        return frame, truth, {"shape": list(shape), "kind": "synthetic (Lorenz–Mie, seeded)", "frames": 1,
                              "normalisation": "none, a synthetic frame is a normalised hologram", "notes": []}
    if "file" not in source:
        raise ValueError(f"a source must name 'generate' or 'file', got {sorted(source)}")
    name = source.get("name") or Path(source["file"]).name
    image = read_frames(source["file"], name)
    notes = list(image.notes)
    if len(image.frames) > 1:
        notes.append(f"the first of {len(image.frames)} frames is characterised here (the command line "
                     "`matloop track holograms` does them all)")
    background = None
    if source.get("background"):
        background_name = source.get("background_name") or Path(source["background"]).name
        reference = read_frames(source["background"], background_name)
        notes += [f"background: {note}" for note in reference.notes]
        background = reference.frames[0]
    frame, how = normalise(image.frames[0], background, name)
    level = float(np.median(frame))
    if background is not None and not 0.5 <= level <= 2.0:
        notes.append(f"the normalised frame's median is {level:.3g}, not about 1: was the background recorded with "
                     "the same exposure and illumination?")
    return frame, None, {"shape": list(frame.shape), "kind": image.kind, "frames": len(image.frames),
                         "normalisation": how, "notes": notes}


def hologram_job(ctx: Any, source: dict[str, Any], instrument: dict[str, Any],
                 options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Background job: characterise every particle of one hologram (module notes).

    Parameters
    ----------
    ctx : engine.runtime.jobs.JobContext
    source : dict
        See :func:`load_frame`.
    instrument : dict
        ``wavelength`` (µm), ``magnification`` (µm/px), ``n_m``.
    options : dict, optional
        Keywords of :class:`.pipeline.PipelineOptions`.

    Returns
    -------
    dict
        Summary (module notes).
    """
    from .svr_shipped import estimator_for

    microscope = instrument_from(instrument)
    settings = PipelineOptions(**(options or {}))
    ctx.progress(0.01, "reading the frame")
    frame, truth, info = load_frame(source, microscope)
    directory = results_directory(ctx.store.path)
    settings, methods = resolved_options(settings, microscope, frame.shape)    # the methods used, recorded below
    estimator = None
    if settings.estimator == "svr":
        estimator = estimator_for(microscope, directory / "estimators", progress=lambda m: ctx.progress(0.02, m))
    timing = Timing()
    table = characterise_frame(frame, microscope, settings, estimator=estimator, timing=timing,
                               progress=lambda f, m: ctx.progress(0.03 + 0.94 * f, m))
    ctx.progress(0.98, "writing the particle table")
    paths = {"table": directory / f"{ctx.job_id}.csv", "frame": directory / f"{ctx.job_id}-frame.npy"}
    table.to_csv(paths["table"], index=False)
    np.save(paths["frame"], frame.astype(np.float32))
    summary: dict[str, Any] = {
        "particles": len(table), "fitted": int(table["success"].sum()), "source": info,
        "instrument": {"wavelength": microscope.wavelength, "magnification": microscope.magnification,
                       "n_m": microscope.n_m},
        "options": settings.as_dict(), "timing": timing.as_dict(), "methods": methods, "notes": info["notes"] + timing.notes,
    }
    if truth is not None:
        paths["truth"] = directory / f"{ctx.job_id}-truth.csv"
        truth.to_csv(paths["truth"], index=False)
        summary["truth"] = _json_safe(compare_with_truth(table, truth))
    summary["paths"] = {k: str(v) for k, v in paths.items()}
    return summary


def _json_safe(value: Any) -> Any:
    """NaN → None, NumPy scalars → Python numbers (JSON)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
