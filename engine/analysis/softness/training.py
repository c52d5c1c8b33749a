"""Training a linear glass model from files: configurations with propensity, or trajectories.

The app's training job and ``matloop softness train`` share it.

* A **training unit** is one described configuration: an isoconfigurational configuration with
  its propensity (softness classes: the top 10 % against the bottom half, :func:`.models.train_softness`;
  or ridge regression of propensity), or one frame of a trajectory with its p_hop labels
  (:mod:`.labels`; softness only, :func:`.models.train_softness_from_labels`).
* :func:`fit_units` describes every unit (the slow step: seconds per thousand particles),
  reporting progress before each so that a job can be cancelled between configurations, fits the
  model, and scores it on held-out units when given.
* **Held-out scores** (:func:`score_units`): with propensity, the Pearson correlation of the
  prediction with the measured propensity of the model's species, averaged over configurations
  (the figure of merit of Bapst et al. 2020), and for softness the share of rearranging (top
  10 %) particles with S > 0; with p_hop labels, the balanced accuracy of the sign of S on the
  labelled particles, ½ (P(S > 0 | rearranging) + P(S ≤ 0 | not rearranging)), which is 0.5 for
  a plane that knows nothing whatever the class sizes. :func:`split_held_out` keeps the last
  20 % of the units (at least one) when there are three or more.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import pearsonr

from ..ordering.systems import ParticleSystem
from .descriptors import SoftnessDescriptors
from .inputs import GlassData
from .isoconfig import GlassSample
from .labels import REARRANGING, STABLE, HopSettings, trajectory_labels, training_frames
from .models import LinearGlassModel, train_propensity_ridge, train_softness, train_softness_from_labels
from .prediction import REARRANGING_SHARE, Progress

__all__ = ["TrainingUnit", "units_from", "split_held_out", "fit_units", "score_units"]


@dataclass(frozen=True, eq=False)
class TrainingUnit:
    """One training configuration and what is known of its dynamics (one of the two).

    Attributes
    ----------
    system : ParticleSystem
    propensity : ndarray, shape (N,), or None
        Dynamic propensity (length units).
    labels : ndarray of int, shape (N,), or None
        p_hop labels (1 rearranging, 0 not, −1 unlabelled).
    name : str
        For messages (file, and frame of a trajectory).
    """

    system: ParticleSystem
    propensity: np.ndarray | None = None
    labels: np.ndarray | None = None
    name: str = ""


def units_from(data: GlassData, name: str, *, species: str = "A", hops: HopSettings | None = None) -> list[TrainingUnit]:
    """Training units of a file's contents: one configuration, or the chosen frames of a trajectory.

    Raises
    ------
    ValueError
        A configuration without propensity, no particle of ``species``, a trajectory too short
        for the windows, or one without a frame holding both classes.
    """
    if isinstance(data, GlassSample):
        if data.propensity is None:
            raise ValueError(f"{name}: training needs the dynamics: an isoconfigurational .npz with propensity (or "
                             "its trajectories), or a trajectory .npz")
        return [TrainingUnit(data.system, propensity=data.propensity, name=name)]
    hops = hops or HopSettings()
    mine = data.species == species
    if not mine.any():
        raise ValueError(f"{name}: the trajectory has no particle of species {species!r}")
    try:
        _, labels = trajectory_labels(data, hops)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    frames = training_frames(labels, hops, mine)
    if not len(frames):
        n_moving = int(np.sum(np.any(labels[:, mine] == REARRANGING, axis=0)))
        raise ValueError(f"{name}: no frame has both a rearranging and a non-rearranging particle of species "
                         f"{species!r} ({n_moving} particles ever have p_hop > {hops.threshold:g}); lower the "
                         "threshold, shorten the stable window or give a longer trajectory")
    return [TrainingUnit(data.frame(int(t)), labels=labels[t], name=f"{name} frame {t}") for t in frames]


def split_held_out(units: Sequence[TrainingUnit], share: float = 0.2,
                   minimum: int = 3) -> tuple[list[TrainingUnit], list[TrainingUnit]]:
    """Training and held-out units: the last ``share`` (at least one) when there are ``minimum`` or more."""
    units = list(units)
    if len(units) < minimum:
        return units, []
    k = max(1, round(share * len(units)))
    return units[:-k], units[-k:]


def _kind_of_data(units: Sequence[TrainingUnit]) -> str:
    kinds = {"propensity" if u.propensity is not None else "labels" for u in units}
    if len(kinds) != 1:
        raise ValueError("training data mix configurations with propensity and trajectories; use one kind")
    return kinds.pop()


def fit_units(units: Sequence[TrainingUnit], *, kind: Literal["softness", "propensity"] = "softness",
              species: str = "A", C: float = 0.01, seed: int = 0, held_out: Sequence[TrainingUnit] = (),
              descriptors: SoftnessDescriptors | None = None,
              progress: Progress | None = None) -> tuple[LinearGlassModel, dict[str, Any]]:
    """Describe, fit and score (module notes).

    Parameters
    ----------
    units : sequence of TrainingUnit
        Training data, all with propensity or all with labels, one dimension.
    kind : {"softness", "propensity"}
        SVM softness, or ridge regression of propensity (needs propensity).
    species : str, default "A"
    C : float, default 0.01
        SVM regularisation.
    seed : int, default 0
    held_out : sequence of TrainingUnit
        Scored, not trained on (same kind of data).
    descriptors : SoftnessDescriptors, optional
    progress : callable, optional
        ``progress(fraction, message)`` before each configuration is described and before the
        fit; an exception it raises (a job's cancellation) stops the training.

    Returns
    -------
    model : LinearGlassModel
    report : dict
        ``configurations``, ``training_particles``, ``describe_seconds``, ``fit_seconds`` and, with
        held-out units, ``held_out`` (:func:`score_units`).

    Raises
    ------
    ValueError
        No units, mixed data, propensity regression from labels, mixed dimensions, or what the
        trainers refuse.
    """
    if kind not in ("softness", "propensity"):
        raise ValueError(f"kind must be softness or propensity, got {kind!r}")
    if not units:
        raise ValueError("no training configurations given")
    data_kind = _kind_of_data(list(units) + list(held_out))
    if kind == "propensity" and data_kind == "labels":
        raise ValueError("a propensity (ridge) model needs configurations with propensity; trajectories give "
                         "rearrangement labels, which train a softness model")
    dims = {u.system.dim for u in list(units) + list(held_out)}
    if len(dims) != 1:
        raise ValueError(f"training data mix dimensions {sorted(dims)}; use one")
    report = progress or (lambda fraction, message: None)
    descriptors = descriptors or SoftnessDescriptors()
    everything = list(units) + list(held_out)
    start = time.perf_counter()
    features = []
    for k, unit in enumerate(everything):
        report(0.9 * k / len(everything), f"structure functions of configuration {k + 1} of {len(everything)} "
               f"({unit.name}, {unit.system.n_particles} particles)")
        features.append(descriptors.describe(unit.system))
    describe_seconds = time.perf_counter() - start
    report(0.9, f"fitting the {kind} model")
    start = time.perf_counter()
    train_features = features[: len(units)]
    if data_kind == "labels":
        model = train_softness_from_labels([u.system for u in units], [u.labels for u in units],
                                           descriptors=descriptors, features=train_features, species=species,
                                           C=C, seed=seed)
    else:
        samples = [GlassSample(u.system, u.propensity) for u in units]
        model = (train_softness(samples, descriptors=descriptors, features=train_features, species=species, C=C,
                                seed=seed) if kind == "softness" else
                 train_propensity_ridge(samples, descriptors=descriptors, features=train_features, species=species))
    result = {"configurations": len(units), "training_particles": model.details["training_particles"],
              "describe_seconds": describe_seconds, "fit_seconds": time.perf_counter() - start}
    if held_out:
        report(0.97, f"scoring {len(held_out)} held-out configurations")
        result["held_out"] = score_units(model, held_out, features[len(units):])
    return model, result


def score_units(model: LinearGlassModel, units: Sequence[TrainingUnit],
                features: Sequence[np.ndarray] | None = None) -> dict[str, Any]:
    """Held-out scores of a model (module notes).

    Returns
    -------
    dict
        ``configurations``, ``particles``, ``soft_fraction`` (softness); with propensity ``pearson``
        (mean) and ``pearson_per_configuration``, and for softness ``rearranging_soft_fraction``
        (top 10 %); with labels ``balanced_accuracy``, ``rearranging_soft_fraction``,
        ``stable_hard_fraction`` and the class counts.
    """
    features = [None] * len(units) if features is None else features
    values, truths, pearsons = [], [], []
    for unit, X in zip(units, features):
        v = model.predict(unit.system, X)
        mine = np.isfinite(v)
        if unit.propensity is not None:
            p = unit.propensity[mine]
            pearsons.append(float(pearsonr(v[mine], p)[0]))
            truths.append(np.where(p >= np.quantile(p, 1 - REARRANGING_SHARE), REARRANGING, STABLE))
        else:
            truths.append(unit.labels[mine])
        values.append(v[mine])
    v, y = np.concatenate(values), np.concatenate(truths)
    out: dict[str, Any] = {"configurations": len(units), "particles": int(len(v))}
    if pearsons:
        out.update(pearson=float(np.mean(pearsons)), pearson_per_configuration=pearsons)
    if model.kind == "softness":
        out["soft_fraction"] = float(np.mean(v > 0))
        moving, staying = v[y == REARRANGING], v[y == STABLE]
        out["rearranging_soft_fraction"] = float(np.mean(moving > 0)) if len(moving) else None
        if not pearsons:
            out.update(rearranging=int(len(moving)), not_rearranging=int(len(staying)),
                       stable_hard_fraction=float(np.mean(staying <= 0)) if len(staying) else None)
            if len(moving) and len(staying):
                out["balanced_accuracy"] = (out["rearranging_soft_fraction"] + out["stable_hard_fraction"]) / 2
    return out
