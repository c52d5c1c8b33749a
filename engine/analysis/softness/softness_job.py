"""Softness of a configuration or trajectory as a background job (kind ``glass-softness``), and uploads.

The app hands the job where the particles come from — an example Kob–Andersen configuration of
the shipped data, or a file staged by :func:`stage_upload` (an isoconfigurational ``.npz`` with
its box, a trajectory ``.npz``, or an XYZ/CSV/GSD configuration with species) — and the models to
apply (references of :func:`.catalog.resolve_model`: the shipped softness and propensity models
by default, or a trained model file). It writes the table of :func:`.prediction.predict_table`,
``<store dir>/softness/<job id>.csv``, and returns its summary. Uploads are kept as
``<store dir>/softness/uploads/<sha256 prefix>.<suffix>``; ``.npz`` files are read with
``allow_pickle=False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..uploads import keep_upload
from .catalog import resolve_model
from .inputs import FORMATS, GlassData, is_trajectory, read_glass_file
from .isoconfig import read_isoconfigurational
from .labels import HopSettings
from .prediction import check_compatible, predict_table
from .shipped import EXAMPLES, KA_BOX
from .trajectory import GlassTrajectory, npz_fields

__all__ = ["MAX_UPLOAD_BYTES", "UPLOAD_FORMATS", "DEFAULT_MODELS", "results_directory", "stage_upload", "load_data",
           "softness_job"]

#: Largest file accepted from the app (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Suffixes the page accepts.
UPLOAD_FORMATS = FORMATS
#: The shipped softness and propensity models.
DEFAULT_MODELS = ("softness", "propensity")


def results_directory(store_path: str | Path) -> Path:
    """``<store dir>/softness``, created if missing."""
    directory = Path(store_path).parent / "softness"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def load_data(source: dict[str, Any]) -> GlassData:
    """What a job source names: ``{"example": k}`` or ``{"file": path[, box_length | density]}``."""
    if "example" in source:
        path = EXAMPLES.get(int(source["example"]))
        if path is None or not path.is_file():
            raise ValueError(f"example configuration {source['example']!r} is not available; "
                             f"allowed: {', '.join(map(str, EXAMPLES))}")
        return read_isoconfigurational(path, box_length=KA_BOX)
    if "file" in source:
        return read_glass_file(source["file"], box_length=source.get("box_length"), density=source.get("density"))
    raise ValueError(f"a source must name 'example' or 'file', got {sorted(source)}")


def stage_upload(store_path: str | Path, filename: str, data: bytes, *, box_length: float | None = None,
                 density: float | None = None, models: Sequence[str] = DEFAULT_MODELS,
                 hops: HopSettings | None = None) -> tuple[dict[str, Any], GlassData]:
    """Keep an uploaded file beside the store and read it once to check it.

    ``box_length``/``density`` apply to ``.npz`` files without a box of their own (a trajectory
    with a ``box`` field keeps it). With ``models``, the file is checked against them (species,
    dimension); with ``hops``, a trajectory against its windows.

    Returns the job source (``{"file": ..., "box_length"/"density": ...}``) and what was read.

    Raises
    ------
    ValueError
        Too large, an unknown suffix, or a file the readers or models refuse (the message names
        the file as the user called it).
    """
    path = keep_upload(results_directory(store_path) / "uploads", filename, data, UPLOAD_FORMATS, MAX_UPLOAD_BYTES)
    source: dict[str, Any] = {"file": str(path)}
    if path.suffix == ".npz" and not (is_trajectory(path) and "box" in npz_fields(path)):
        source.update({k: v for k, v in (("box_length", box_length), ("density", density)) if v is not None})
    try:
        content = load_data(source)
        first = content.frame(0) if isinstance(content, GlassTrajectory) else content.system
        check_compatible(first, [resolve_model(m) for m in models])
        if hops is not None and isinstance(content, GlassTrajectory) and content.n_frames < 2 * hops.half_window + 1:
            raise ValueError(f"the trajectory has {content.n_frames} frames; p_hop windows of {hops.half_window} "
                             f"frames need at least {2 * hops.half_window + 1}")
    except ValueError as exc:
        raise ValueError(str(exc).replace(str(path), filename).replace(path.name, filename)) from None
    return source, content


def softness_job(ctx: Any, source: dict[str, Any], models: Sequence[str] = DEFAULT_MODELS,
                 hops: dict[str, Any] | None = None) -> dict[str, Any]:
    """Background job: softness and/or predicted propensity of every particle (module notes).

    Parameters
    ----------
    ctx : engine.runtime.jobs.JobContext
    source : dict
        See :func:`load_data`.
    models : sequence of str
        Model references (at most one per kind).
    hops : dict, optional
        :class:`.labels.HopSettings` of a trajectory.

    Returns
    -------
    dict
        :func:`.prediction.summarise`'s summary and ``path`` (CSV).
    """
    ctx.progress(0.02, "reading the data")
    data = load_data(source)
    resolved = [resolve_model(m) for m in models]
    table, summary = predict_table(data, resolved, hops=HopSettings(**(hops or {})),
                                   progress=lambda f, message: ctx.progress(0.05 + 0.9 * f, message))
    ctx.progress(0.97, "writing the per-particle table")
    path = results_directory(ctx.store.path) / f"{ctx.job_id}.csv"
    table.to_csv(path, index=False)
    summary["path"] = str(path)
    return summary
