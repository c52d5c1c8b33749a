"""Training a softness or propensity model as a background job (kind ``glass-softness-train``).

Inputs, one of:

* ``{"example": n}`` — the first n (1–10) Kob–Andersen training configurations of the shipped
  models (:data:`.shipped.TRAINING`, propensity at t ≈ τα; softness classes: the top 10 % of
  propensity against the bottom half), scored on the three test configurations 401–403;
* ``{"files": [source, ...]}`` — files staged by :func:`.softness_job.stage_upload`:
  isoconfigurational ``.npz`` with propensity, or trajectories (p_hop labels of :mod:`.labels`,
  softness only); the last 20 % of the configurations (frames of trajectories) are held out when
  there are three or more (:func:`.training.split_held_out`).

Progress is reported before each configuration's structure functions (several seconds per 4096
particles), where a cancellation stops the job. The model is written with
:meth:`.models.LinearGlassModel.save` to ``<store dir>/softness/models/<job id>.json`` (listed by
:func:`.catalog.trained_models`), its ``details`` extended by the name, the data, the training
report and the time of training.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any, Literal

from .catalog import model_title, models_directory
from .isoconfig import read_isoconfigurational
from .labels import HopSettings
from .shipped import EXAMPLES, KA_BOX, TRAINING
from .softness_job import load_data
from .prediction import Progress
from .training import TrainingUnit, fit_units, split_held_out, units_from

__all__ = ["train_job", "training_units"]


def training_units(inputs: dict[str, Any], *, species: str, hops: HopSettings,
                   progress: Progress | None = None) -> tuple[list[TrainingUnit], list[TrainingUnit], str]:
    """Training units, held-out units and a description of the data (module notes).

    ``progress(fraction, message)`` is called before each file is read.

    Raises
    ------
    ValueError
        An unknown input, an example count outside 1–10, or files the readers or
        :func:`.training.units_from` refuse.
    """
    report = progress or (lambda fraction, message: None)
    if "example" in inputs:
        n = inputs["example"]
        if int(n) != n or not 1 <= n <= len(TRAINING):
            raise ValueError(f"the example training set has 1 to {len(TRAINING)} configurations, got {n!r}")
        report(0.0, f"reading {int(n)} Kob–Andersen configurations")
        read = partial(read_isoconfigurational, box_length=KA_BOX)
        units = [u for k in list(TRAINING)[: int(n)] for u in units_from(read(TRAINING[k]), f"configuration {k}")]
        held = [u for k, path in EXAMPLES.items() for u in units_from(read(path), f"configuration {k}")]
        return units, held, f"Kob–Andersen configurations 1–{int(n)} (propensity)"
    if "files" in inputs and inputs["files"]:
        units = []
        for source in inputs["files"]:
            name = source.get("name") or Path(source["file"]).name
            report(0.0, f"reading {name}")
            units += units_from(load_data(source), name, species=species, hops=hops)
        train, held = split_held_out(units)
        names = ", ".join(s.get("name") or Path(s["file"]).name for s in inputs["files"])
        kind = "p_hop labels" if units[0].labels is not None else "propensity"
        return train, held, f"{names} ({len(units)} configurations, {kind})"
    raise ValueError(f"training inputs must name 'example' or a non-empty list of 'files', got {sorted(inputs)}")


def train_job(ctx: Any, inputs: dict[str, Any], kind: Literal["softness", "propensity"] = "softness",
              species: str = "A", C: float = 0.01, hops: dict[str, Any] | None = None,
              name: str | None = None) -> dict[str, Any]:
    """Background job: train a model and store it (module notes).

    Parameters
    ----------
    ctx : engine.runtime.jobs.JobContext
    inputs : dict
        Module notes.
    kind : {"softness", "propensity"}
    species : str, default "A"
    C : float, default 0.01
        SVM regularisation.
    hops : dict, optional
        :class:`.labels.HopSettings` of trajectories.
    name : str, optional
        Shown in the model lists (default "trained <date>").

    Returns
    -------
    dict
        ``path`` (model JSON), ``title``, ``kind``, ``species``, ``dim``, ``data`` and the report of
        :func:`.training.fit_units` (``configurations``, ``training_particles``, seconds,
        ``held_out``).
    """
    settings = HopSettings(**(hops or {}))
    ctx.progress(0.01, "reading the training data")
    units, held, data = training_units(inputs, species=species, hops=settings,
                                       progress=lambda f, message: ctx.progress(0.02, message))
    model, report = fit_units(units, kind=kind, species=species, C=C, held_out=held,
                              progress=lambda f, message: ctx.progress(0.03 + 0.95 * f, message))
    model.details.update(name=name or f"trained {time.strftime('%Y-%m-%d %H:%M')}", source=data,
                         trained_at=time.strftime("%Y-%m-%dT%H:%M:%S"), report=report, job=ctx.job_id)
    if units[0].labels is not None:
        model.details["hops"] = settings.describe()
    path = model.save(models_directory(ctx.store.path) / f"{ctx.job_id}.json")
    return {"path": str(path), "title": model_title(model), "kind": model.kind, "species": model.species,
            "dim": model.dim, "data": data, **report}
