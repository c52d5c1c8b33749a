"""Classification of a configuration as a background job (kind ``identify-structures``), and uploads.

The app hands the job a JSON description of where the particles come from — a generator and
its options, or a file staged by :func:`stage_upload` — a method name and its options. The job
writes the per-particle table (:func:`.methods.particle_table`) as CSV next to the store,
``<store dir>/ordering/<job id>.csv``, and returns a small JSON summary; the page reads the CSV
for its plots and download. Uploaded files are kept as ``<store dir>/ordering/uploads/<sha256
prefix>.<xyz|csv>`` and read by the text readers of :mod:`.readers` only (never unpickled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..uploads import keep_upload
from .configurations import READ_FORMATS, generate, read_configuration
from .methods import METHODS, class_fractions, classify, particle_table, table_neighbors
from .systems import ParticleSystem

__all__ = ["MAX_UPLOAD_BYTES", "stage_upload", "load_source", "classify_order_job", "results_directory"]

#: Largest configuration file accepted from the app (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def results_directory(store_path: str | Path) -> Path:
    """``<store dir>/ordering``, created if missing."""
    directory = Path(store_path).parent / "ordering"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def stage_upload(store_path: str | Path, filename: str, data: bytes) -> tuple[Path, ParticleSystem]:
    """Keep an uploaded configuration beside the store and read it once to check it.

    Parameters
    ----------
    store_path : path-like
        The store's SQLite file.
    filename : str
        The name the user gave the file; its suffix (``.xyz``, ``.csv`` or ``.gsd``) picks the reader.
    data : bytes
        File contents, at most :data:`MAX_UPLOAD_BYTES`.

    Returns
    -------
    path : Path
        Where the file is kept (named by its content hash).
    system : ParticleSystem
        The particles read from it.

    Raises
    ------
    ValueError
        Too large, an unknown suffix, or a file the readers refuse (message names the file as
        the user called it).
    """
    path = keep_upload(results_directory(store_path) / "uploads", filename, data, READ_FORMATS, MAX_UPLOAD_BYTES)
    try:
        system = read_configuration(path)
    except ValueError as exc:
        # the file as the user named it; no box= keyword to pass in an upload
        message = str(exc).replace(str(path), filename).replace(" or pass box=", "")
        raise ValueError(message) from None
    return path, system


def load_source(source: dict[str, Any]) -> ParticleSystem:
    """The particles a job source names: ``{"generate": {"kind": ..., **options}}`` or ``{"file": path}``."""
    if "generate" in source:
        options = dict(source["generate"])
        return generate(options.pop("kind", ""), **options)
    if "file" in source:
        return read_configuration(source["file"], source.get("format"))
    raise ValueError(f"a source must name 'generate' or 'file', got {sorted(source)}")


def _box(system: ParticleSystem) -> dict[str, Any]:
    box = system.box
    tilt = [box.xy] if system.dim == 2 else [box.xy, box.xz, box.yz]
    return {"L": [float(v) for v in box.L[: system.dim]], "tilt": [float(v) for v in tilt],
            "periodic": list(system.periodic)}


def classify_order_job(ctx: Any, source: dict[str, Any], method: str = "mlp",
                       options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Background job: read or generate particles, classify them, write the per-particle CSV.

    Parameters
    ----------
    ctx : engine.runtime.jobs.JobContext
        Progress and cancellation.
    source : dict
        See :func:`load_source`.
    method : str
        A name of :data:`.methods.METHODS`.
    options : dict, optional
        The method's options.

    Returns
    -------
    dict
        ``path`` (CSV), ``n_particles``, ``dim``, ``box``, ``method``, ``kind`` (supervised or
        unsupervised), ``descriptor``, ``embedding_axes``, ``details``, ``fractions`` and, when
        the particles have true labels, ``agreement`` (structure names: share equal to the truth) or
        ``ari`` (unsupervised: adjusted Rand index; for a single true class, whose every split
        scores 0, ``largest_cluster_share`` instead).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    ctx.progress(0.02, "reading the configuration" if "file" in source else "generating the configuration")
    system = load_source(source)
    ctx.progress(0.2, f"classifying {system.n_particles} particles with {method}")
    result = classify(system, method, **(options or {}))
    ctx.progress(0.9, "writing the per-particle table")
    q_neighbors = table_neighbors(system, (options or {}).get("neighbors", 12))
    table = particle_table(system, result, neighbors=q_neighbors)
    path = results_directory(ctx.store.path) / f"{ctx.job_id}.csv"
    table.to_csv(path, index=False)
    summary: dict[str, Any] = {
        "path": str(path), "n_particles": system.n_particles, "dim": system.dim, "box": _box(system),
        "method": method, "kind": METHODS[method].kind, "descriptor": result.descriptor,
        "embedding_axes": list(result.embedding_axes) if result.embedding_axes else None,
        "details": result.details, "fractions": class_fractions(result.labels), "q_neighbors": q_neighbors,
    }
    if system.labels is not None:
        if METHODS[method].kind != "unsupervised":
            summary["agreement"] = float(np.mean(result.labels == system.labels))
        elif len(set(system.labels.tolist())) == 1:  # ARI is 0 for any split of a one-class truth
            summary["largest_cluster_share"] = max(summary["fractions"].values())
        else:
            from sklearn.metrics import adjusted_rand_score

            summary["ari"] = float(adjusted_rand_score(system.labels, result.labels))
    return summary
