"""Softness of a configuration as a background job (kind ``glass-softness``), and uploads.

The app hands the job where the particles come from — an example Kob–Andersen configuration of
the shipped data, or a file staged by :func:`stage_upload` (an isoconfigurational ``.npz`` with
its box, or an XYZ/CSV configuration with species) — and the job applies the shipped softness
and propensity models (:mod:`.shipped`) to it, sharing one descriptor matrix. It writes one row
per particle, ``<store dir>/softness/<job id>.csv`` (particle, species, x, y, z, softness,
predicted_propensity and, when the file has it, propensity and rearranging = top 10 % propensity
of the model's species), and returns a small JSON summary. Uploads are kept as
``<store dir>/softness/uploads/<sha256 prefix>.<suffix>``; ``.npz`` files are read with
``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..ordering.configurations import READ_FORMATS, read_configuration
from ..ordering.systems import ParticleSystem
from ..uploads import keep_upload
from .isoconfig import GlassSample, read_isoconfigurational
from .shipped import EXAMPLES, KA_BOX, load_shipped

__all__ = ["MAX_UPLOAD_BYTES", "UPLOAD_FORMATS", "check_sample", "positions_table", "stage_upload", "load_sample", "softness_job"]

#: Largest configuration file accepted from the app (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Suffixes the page accepts.
UPLOAD_FORMATS = ("npz",) + tuple(READ_FORMATS)
#: Share of the model's species called "rearranging" when the propensity is known.
REARRANGING_SHARE = 0.1


def _directory(store_path: str | Path) -> Path:
    directory = Path(store_path).parent / "softness"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def load_sample(source: dict[str, Any]) -> GlassSample:
    """The configuration a job source names: ``{"example": k}`` or ``{"file": path[, box_length | density]}``."""
    if "example" in source:
        path = EXAMPLES.get(int(source["example"]))
        if path is None or not path.is_file():
            raise ValueError(f"example configuration {source['example']!r} is not available; "
                             f"allowed: {', '.join(map(str, EXAMPLES))}")
        return read_isoconfigurational(path, box_length=KA_BOX)
    if "file" in source:
        path = Path(source["file"])
        if path.suffix.lower() == ".npz":
            return read_isoconfigurational(path, box_length=source.get("box_length"), density=source.get("density"))
        return GlassSample(read_configuration(path))
    raise ValueError(f"a source must name 'example' or 'file', got {sorted(source)}")


def check_sample(sample: GlassSample, species: str) -> None:
    """Refuse what the shipped models (of ``species``) cannot describe: no species, none of theirs, or not 3D."""
    system = sample.system
    if system.species is None:
        raise ValueError("the configuration has no species; the models describe the A particles of a "
                         "Kob-Andersen A/B mixture: give a species column (XYZ first column, CSV 'species')")
    if system.dim != 3:
        raise ValueError(f"the shipped models are for 3D configurations; this one is {system.dim}D")
    if not np.any(system.species == species):
        raise ValueError(f"the configuration has no particle of species {species!r}, the one the models describe "
                         f"(it has {', '.join(sorted(set(system.species.tolist())))})")


def stage_upload(store_path: str | Path, filename: str, data: bytes, *, box_length: float | None = None,
                 density: float | None = None) -> tuple[dict[str, Any], GlassSample]:
    """Keep an uploaded configuration beside the store and read it once to check it.

    Returns the job source (``{"file": ..., "box_length"/"density": ...}``) and the sample.

    Raises
    ------
    ValueError
        Too large, an unknown suffix, or a file the readers refuse (the message names the file
        as the user called it).
    """
    path = keep_upload(_directory(store_path) / "uploads", filename, data, UPLOAD_FORMATS, MAX_UPLOAD_BYTES)
    source: dict[str, Any] = {"file": str(path)}
    if path.suffix == ".npz":
        source.update({k: v for k, v in (("box_length", box_length), ("density", density)) if v is not None})
    try:
        sample = load_sample(source)
        check_sample(sample, load_shipped()[0].species)
    except ValueError as exc:
        raise ValueError(str(exc).replace(path.name, filename).replace(str(path), filename)) from None
    return source, sample


def positions_table(system: ParticleSystem) -> pd.DataFrame:
    """Columns particle, species, x, y[, z] (length units) of the per-particle results."""
    table = pd.DataFrame({"particle": np.arange(system.n_particles), "species": system.species})
    for axis, column in zip("xyz", system.positions.T):
        table[axis] = column
    return table


def softness_job(ctx: Any, source: dict[str, Any]) -> dict[str, Any]:
    """Background job: softness and predicted propensity of every particle (module notes).

    Returns
    -------
    dict
        ``path`` (CSV), ``n_particles``, ``dim``, ``box`` (lengths), ``species`` (counts), ``model``
        (species, training configurations), ``soft_fraction`` (S > 0), softness ``mean``/``std``,
        and with a known propensity ``pearson_softness``, ``pearson_ridge`` and
        ``rearranging_soft_fraction``.
    """
    ctx.progress(0.02, "reading the configuration")
    sample = load_sample(source)
    svm, ridge = load_shipped()
    check_sample(sample, svm.species)
    system = sample.system
    ctx.progress(0.1, f"structure functions of {system.n_particles} particles")
    X = svm.descriptors.describe(system)
    ctx.progress(0.85, "applying the models")
    softness, predicted = svm.predict(system, X), ridge.predict(system, X)
    mine = np.isfinite(softness)
    table = positions_table(system)
    table["softness"], table["predicted_propensity"] = softness, predicted
    summary: dict[str, Any] = {
        "n_particles": system.n_particles, "dim": system.dim,
        "box": [float(v) for v in system.box.L[: system.dim]],
        "species": {s: int(np.sum(system.species == s)) for s in sorted(set(system.species.tolist()))},
        "model": {"species": svm.species, "configurations": svm.details.get("configurations")},
        "soft_fraction": float(np.mean(softness[mine] > 0)),
        "mean": float(softness[mine].mean()), "std": float(softness[mine].std()),
    }
    if sample.propensity is not None:
        from scipy.stats import pearsonr

        p = sample.propensity
        rearranging = np.zeros(system.n_particles, dtype=bool)
        rearranging[mine] = p[mine] >= np.quantile(p[mine], 1 - REARRANGING_SHARE)
        table["propensity"], table["rearranging"] = p, rearranging
        summary.update(pearson_softness=float(pearsonr(softness[mine], p[mine])[0]),
                       pearson_ridge=float(pearsonr(predicted[mine], p[mine])[0]),
                       rearranging_soft_fraction=float(np.mean(softness[rearranging] > 0)))
    path = _directory(ctx.store.path) / f"{ctx.job_id}.csv"
    table.to_csv(path, index=False)
    summary["path"] = str(path)
    return summary
