"""Per-particle softness and predicted propensity of a configuration or a trajectory, as one table.

The app's job and ``matloop softness predict`` share it. Columns: ``frame`` (and ``time`` when the
trajectory has times) for trajectories, then ``particle, species, x, y[, z]`` (length units),
``softness`` and/or ``predicted_propensity`` (NaN for particles of other species than the
model's) and, when the dynamics are known,

* from an isoconfigurational file: ``propensity`` and ``rearranging`` = the top 10 % of
  propensity among the model's species;
* from a trajectory: ``p_hop`` (length²) and ``rearranging`` = p_hop > p_c at that frame, the
  definition of Schoenholz et al., Nat. Phys. 12, 469 (2016), whose P(R|S) is the share of
  particles of softness S that rearrange. A trajectory is described at up to ``max_frames``
  frames evenly spaced where p_hop is defined (:func:`.labels.prediction_frames`), one row per
  particle and frame.

``outside_training`` marks particles of the model's species whose descriptors lie far from the
model's training data: root-mean-square standardised descriptor above :data:`FAR_FROM_TRAINING`
(on the Kob–Andersen test configurations every A particle stays below 2.8; the same
configuration expanded by 2 % in length reaches 4.2, by 5 % 7.1). A model extrapolates there, and
the summary warns when they are more than :data:`WARN_SHARE` of the particles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import pearsonr

from ..ordering.systems import ParticleSystem
from .dynamics import p_hop
from .catalog import model_title
from .inputs import GlassData
from .isoconfig import GlassSample
from .labels import HopSettings, prediction_frames
from .models import LinearGlassModel

__all__ = ["REARRANGING_SHARE", "COLUMNS", "Progress", "check_compatible", "positions_table", "predict_table", "summarise"]

#: Share of the model's species called "rearranging" when the propensity is known.
REARRANGING_SHARE = 0.1
#: Root-mean-square standardised descriptor above which a particle is unlike the training data.
FAR_FROM_TRAINING = 4.0
#: Share of such particles above which the summary warns.
WARN_SHARE = 0.05
#: Table column of each model kind.
COLUMNS = {"softness": "softness", "propensity": "predicted_propensity"}

#: ``progress(fraction, message)``; an exception it raises (a job's cancellation) stops the work.
Progress = Callable[[float, str], None]


def check_compatible(system: ParticleSystem, models: Sequence[LinearGlassModel]) -> None:
    """Refuse a system the models cannot describe: no species, none of theirs, another dimension.

    Raises
    ------
    ValueError
        With the reason and what to do.
    """
    if system.species is None:
        raise ValueError("the configuration has no species; the models describe one species of a mixture "
                         "(Kob-Andersen: A of A/B): give a species column (XYZ first column, CSV 'species')")
    for model in models:
        if system.dim != model.dim:
            raise ValueError(f"this model was trained on {model.dim}D configurations; the system is {system.dim}D "
                             "(structure functions of 2D and 3D packings are not comparable): train a "
                             f"{system.dim}D model")
        if not np.any(system.species == model.species):
            raise ValueError(f"the configuration has no particle of species {model.species!r}, the one the model "
                             f"describes (it has {', '.join(sorted(set(system.species.tolist())))})")


def positions_table(system: ParticleSystem) -> pd.DataFrame:
    """Columns particle, species, x, y[, z] (length units) of the per-particle results."""
    table = pd.DataFrame({"particle": np.arange(system.n_particles), "species": system.species})
    for axis, column in zip("xyz", system.positions.T):
        table[axis] = column
    return table


def _predictions(system: ParticleSystem, models: Sequence[LinearGlassModel]) -> pd.DataFrame:
    """Positions and one column per model; models with the same descriptor recipe share one matrix."""
    table = positions_table(system)
    described: list[tuple[Any, np.ndarray]] = []
    for model in models:
        X = next((X for recipe, X in described if recipe == model.descriptors), None)
        if X is None:
            X = model.descriptors.describe(system)
            described.append((model.descriptors, X))
        table[COLUMNS[model.kind]] = model.predict(system, X)
        mine = system.species == model.species
        rms = np.sqrt(np.mean(((X[mine] - model.mean) / model.scale) ** 2, axis=1))
        far = np.zeros(system.n_particles, dtype=bool)
        far[mine] = rms > FAR_FROM_TRAINING
        table["outside_training"] = table.get("outside_training", False) | far
    return table


def _check_models(models: Sequence[LinearGlassModel]) -> None:
    kinds = [m.kind for m in models]
    if not models or len(set(kinds)) != len(kinds):
        raise ValueError(f"give one or two models, at most one of each kind (softness, propensity); got {kinds}")


def predict_table(data: GlassData, models: Sequence[LinearGlassModel], *, hops: HopSettings | None = None,
                  progress: Progress | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Apply models to a configuration or trajectory (module notes).

    Parameters
    ----------
    data : GlassSample or GlassTrajectory
    models : sequence of LinearGlassModel
        At most one softness and one propensity model.
    hops : HopSettings, optional
        p_hop window, p_c and frames of a trajectory (default :class:`.labels.HopSettings`).
    progress : callable, optional
        ``progress(fraction, message)``, called before each frame is described.

    Returns
    -------
    table : DataFrame
        Module notes.
    summary : dict
        See :func:`summarise`.

    Raises
    ------
    ValueError
        Models of one kind twice, or data they cannot describe (:func:`check_compatible`).
    """
    _check_models(models)
    report = progress or (lambda fraction, message: None)
    if isinstance(data, GlassSample):
        check_compatible(data.system, models)
        report(0.0, f"structure functions of {data.system.n_particles} particles")
        table = _predictions(data.system, models)
        if data.propensity is not None:
            mine = (data.system.species == models[0].species)
            p = data.propensity
            table["propensity"] = p
            table["rearranging"] = mine & (p >= np.quantile(p[mine], 1 - REARRANGING_SHARE))
        return table, summarise(table, models, data.system)
    hops = hops or HopSettings()
    frames = prediction_frames(data.n_frames, hops)
    check_compatible(data.frame(0), models)
    phop = p_hop(data.positions, hops.half_window)
    parts = []
    for k, t in enumerate(frames):
        report(k / len(frames), f"structure functions of frame {t} ({k + 1} of {len(frames)})")
        part = _predictions(data.frame(int(t)), models)
        part.insert(0, "frame", int(t))
        if data.times is not None:
            part.insert(1, "time", data.times[t])
        part["p_hop"] = phop[t]
        part["rearranging"] = phop[t] > hops.threshold
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    summary = summarise(table, models, data.frame(int(frames[0])))
    summary.update(frames=[int(t) for t in frames], n_frames=data.n_frames, hops=hops.describe(),
                   rearranging_definition=f"p_hop > {hops.threshold:g} at the frame")
    return table, summary


def summarise(table: pd.DataFrame, models: Sequence[LinearGlassModel], system: ParticleSystem) -> dict[str, Any]:
    """Statistics of a prediction table.

    Returns
    -------
    dict
        ``n_particles``, ``dim``, ``box`` (lengths), ``species`` (counts), ``models`` (kind, species,
        dim, title), and with a softness model ``soft_fraction`` (S > 0), ``mean``, ``std``; with known
        propensity ``pearson_softness`` / ``pearson_ridge``; with known rearrangements
        ``rearranging_soft_fraction`` (S > 0 among them), ``n_rearranging`` and
        ``rearranging_definition``; ``outside_training_fraction`` and ``warnings`` (sentences for the
        user: particles unlike the training data, a non-periodic box, no correlation computable).
    """
    summary: dict[str, Any] = {
        "n_particles": system.n_particles, "dim": system.dim,
        "box": [float(v) for v in system.box.L[: system.dim]],
        "species": {s: int(np.sum(system.species == s)) for s in sorted(set(system.species.tolist()))},
        "models": [{"kind": m.kind, "species": m.species, "dim": m.dim, "title": model_title(m)} for m in models],
    }
    if "softness" in table:
        s = table.softness.dropna()
        summary.update(soft_fraction=float(np.mean(s > 0)), mean=float(s.mean()), std=float(s.std(ddof=0)))
    warnings = []
    mine = table.species == models[0].species
    far = float(table.outside_training[mine].mean())
    summary["outside_training_fraction"] = far
    if far > WARN_SHARE:
        warnings.append(f"{100 * far:.0f} % of the {models[0].species} particles have structure functions far from "
                        "the model's training data (outside_training in the table): the model extrapolates there. "
                        "Is this the system, density and temperature it was trained on, with the same length unit?")
    if not all(system.periodic):
        warnings.append("the box is not periodic along every axis: particles near its walls miss neighbours, and "
                        "their structure functions do not describe a bulk environment")
    if "propensity" in table:
        for column, key in (("softness", "pearson_softness"), ("predicted_propensity", "pearson_ridge")):
            if column in table:
                scored = table[table[column].notna()]
                if len(scored) >= 3 and scored[column].std() > 0 and scored.propensity.std() > 0:
                    summary[key] = float(pearsonr(scored[column], scored.propensity)[0])
                elif not any(w.startswith("no Pearson") for w in warnings):
                    warnings.append(f"no Pearson correlation with propensity: it needs three or more "
                                    f"{models[0].species} particles whose values are not all equal")
        summary["rearranging_definition"] = f"top {100 * REARRANGING_SHARE:g} % of propensity"
    if "rearranging" in table:
        summary["n_rearranging"] = int(table.rearranging.sum())
        if "softness" in table:
            moving = table.softness[table.rearranging & table.softness.notna()]
            summary["rearranging_soft_fraction"] = float(np.mean(moving > 0)) if len(moving) else None
    summary["warnings"] = warnings
    return summary
