"""What a campaign optimises, computed from an evaluation: values to maximise.

Kinds:

- ``metric``: one metric of the evaluator's table (e.g. toughness), its sign set by whether
  larger is better;
- ``weighted``: a weighted sum of metrics (each signed the same way), in the metrics' units;
- ``pareto``: two metrics, optimised together: the campaign reports their Pareto front;
- ``target_stiffness``: a target orthotropic stiffness ``(C11, C12, C13, C22, C23, C33, C44,
  C55, C66)`` in units of the solid's Young's modulus; the value is minus the largest relative
  error of C11, C22, C33 (Kumar et al. 2020 judge inverse designs on the normal stiffnesses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.evaluators.protocol import Evaluation, Evaluator
from engine.surrogates.data import NORMAL_STIFFNESS

__all__ = ["OBJECTIVE_KINDS", "Objective", "TARGET_MATCHED", "stiffness_matrix"]

OBJECTIVE_KINDS = ("metric", "weighted", "pareto", "target_stiffness")

#: What a target stiffness's nine components do, for help texts.
TARGET_MATCHED = ("the campaign matches C11, C22 and C33 (its value is their largest relative error); all nine must "
                  "form a positive-definite stiffness, and the inverse strategy's net reads all nine")


def stiffness_matrix(components: Sequence[float]) -> np.ndarray:
    """6×6 Voigt stiffness of the orthotropic 9-vector (C11, C12, C13, C22, C23, C33, C44, C55, C66)."""
    c11, c12, c13, c22, c23, c33, c44, c55, c66 = (float(v) for v in components)
    C = np.zeros((6, 6))
    C[:3, :3] = [[c11, c12, c13], [c12, c22, c23], [c13, c23, c33]]
    C[3, 3], C[4, 4], C[5, 5] = c44, c55, c66
    return C


@dataclass(frozen=True)
class Objective:
    """A campaign objective (see the module docstring).

    Parameters
    ----------
    kind : {"metric", "weighted", "pareto", "target_stiffness"}
    metrics : tuple of str
        Metric names (one for ``metric``, several for ``weighted``, two for ``pareto``).
    weights : tuple of float
        ``weighted`` only, one per metric (> 0).
    target : tuple of float
        ``target_stiffness`` only: the 9 orthotropic components.

    Raises
    ------
    ValueError
        Unknown kind, wrong number of metrics or weights, a target that is not 9 finite numbers
        forming a positive definite stiffness.
    """

    kind: str = "metric"
    metrics: tuple[str, ...] = ("toughness",)
    weights: tuple[float, ...] = ()
    target: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in OBJECTIVE_KINDS:
            raise ValueError(f"unknown objective kind {self.kind!r}; allowed: {', '.join(OBJECTIVE_KINDS)}")
        metrics = tuple(str(m) for m in ((self.metrics,) if isinstance(self.metrics, str) else self.metrics))
        weights = tuple(float(w) for w in self.weights)
        target = tuple(float(v) for v in self.target)
        need = {"metric": (1, 1), "weighted": (1, 16), "pareto": (2, 2), "target_stiffness": (0, 0)}[self.kind]
        if not need[0] <= len(metrics) <= need[1] and self.kind != "target_stiffness":
            raise ValueError(f"a {self.kind} objective needs {need[0]}{'' if need[0] == need[1] else '+'} "
                             f"metric(s), got {list(metrics)}")
        if len(set(metrics)) < len(metrics):
            raise ValueError(f"a {self.kind} objective needs different metrics, got {list(metrics)}")
        if self.kind == "weighted" and (len(weights) != len(metrics) or not all(w > 0 and np.isfinite(w) for w in weights)):
            raise ValueError(f"a weighted objective needs one positive weight per metric, got {list(weights)}")
        if self.kind == "target_stiffness":
            metrics = ("C",)
            if len(target) != 9 or not np.isfinite(target).all():
                raise ValueError("a target stiffness needs the 9 components C11, C12, C13, C22, C23, C33, C44, C55, "
                                 f"C66 as finite numbers (units of the solid's E), got {list(target)}")
            smallest = float(np.linalg.eigvalsh(stiffness_matrix(target)).min())
            if smallest <= 0:
                raise ValueError(f"the target stiffness is not positive definite (smallest eigenvalue {smallest:.3g}); "
                                 "no material has it")
        object.__setattr__(self, "metrics", metrics)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "target", target)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Objective":
        """Objective from its JSON form (``kind``, ``metrics``, ``weights``, ``target``)."""
        unknown = sorted(set(config) - {"kind", "metrics", "weights", "target"})
        if unknown:
            raise ValueError(f"unknown objective setting(s) {unknown}; allowed: kind, metrics, weights, target")
        return cls(**dict(config))

    def to_config(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {"kind": self.kind, "metrics": list(self.metrics)}
        if self.weights:
            out["weights"] = list(self.weights)
        if self.target:
            out["target"] = list(self.target)
        return out

    @property
    def n_values(self) -> int:
        """Number of values per design (2 for a Pareto objective, else 1)."""
        return 2 if self.kind == "pareto" else 1

    def check(self, evaluator: Evaluator) -> None:
        """``ValueError`` unless ``evaluator`` reports what this objective needs."""
        objectives = [m.name for m in evaluator.METRICS if m.larger_is_better is not None]
        for name in self.metrics:
            if self.kind != "target_stiffness" and name not in objectives:
                known = "is not an objective" if name in {m.name for m in evaluator.METRICS} else "is no metric"
                raise ValueError(f"{name} {known} of {evaluator.name}; objectives: {', '.join(objectives)}")
            evaluator.metric(name)  # ValueError naming the known metrics
            if not evaluator.provides(name):
                computed = [m.name for m in evaluator.METRICS if m.larger_is_better is not None and evaluator.provides(m.name)]
                raise ValueError(f"{name} is not computed at the {evaluator.fidelity} fidelity of {evaluator.name}; "
                                 f"objectives at this fidelity: {', '.join(computed)}")

    def signs(self, evaluator: Evaluator) -> np.ndarray:
        """+1 for metrics where larger is better, −1 otherwise."""
        return np.array([1.0 if evaluator.metric(m).larger_is_better else -1.0 for m in self.metrics])

    def values(self, evaluation: Evaluation, evaluator: Evaluator) -> np.ndarray:
        """Values to maximise, shape (n_values,); NaN when the label failed or lacks a number."""
        nan = np.full(self.n_values, np.nan)
        if not evaluation.ok:
            return nan
        if self.kind == "target_stiffness":
            C = evaluation.metrics.get("C")
            if C is None:
                return nan
            return np.array([-float(np.max(self.relative_errors(np.asarray(C, dtype=float))))])
        raw = np.array([evaluation.metrics.get(m) if isinstance(evaluation.metrics.get(m), (int, float)) else np.nan
                        for m in self.metrics], dtype=float)
        signed = raw * self.signs(evaluator)
        if self.kind == "weighted":
            return np.array([float(np.dot(self.weights, signed))])
        return signed

    @property
    def n_outputs(self) -> int:
        """Number of :meth:`outputs` per design the value is composed of (3 for a target stiffness, else 0)."""
        return len(NORMAL_STIFFNESS) if self.kind == "target_stiffness" else 0

    def outputs(self, evaluation: Evaluation) -> np.ndarray:
        """The smooth quantities the value is composed of, shape (:attr:`n_outputs`,): the log normal
        stiffnesses log C_ii along x, y and z (i = 1, 2, 3) of a target stiffness; NaN where the label
        failed or a C_ii is not positive.

        The value is −max_i |C_ii / T_ii − 1| (:meth:`value_from_outputs`); it is at least −e exactly
        where every output lies in :meth:`output_interval` (e). The outputs follow the axes: relabel
        a design's axes and they are permuted with them.

        Raises
        ------
        ValueError
            The objective is not composed of outputs (:attr:`n_outputs` is 0).
        """
        if not self.n_outputs:
            raise ValueError(f"a {self.kind} objective is not composed of outputs")
        C = evaluation.metrics.get("C") if evaluation.ok else None
        if C is None:
            return np.full(self.n_outputs, np.nan)
        normal = np.diag(np.asarray(C, dtype=float))[:3]
        return np.where(normal > 0, np.log(np.where(normal > 0, normal, 1.0)), np.nan)

    def value_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        """Values (to maximise) of outputs (..., :attr:`n_outputs`): −max_i |exp(r_i) / T_ii − 1|, shape (...)."""
        return -np.max(np.abs(np.expm1(np.asarray(outputs, dtype=float) - self._log_target())), axis=-1)

    def output_interval(self, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bounds log T_ii + (log(1 − e), log(1 + e)) of the outputs that keep every relative error below e.

        Parameters
        ----------
        error : ndarray
            Errors e ≥ 0, shape (q,).

        Returns
        -------
        lower, upper : ndarray
            Shape (q, :attr:`n_outputs`); the lower bound is −inf for e ≥ 1.
        """
        error = np.asarray(error, dtype=float)[:, None]
        with np.errstate(divide="ignore"):
            return self._log_target() + np.log(np.clip(1.0 - error, 0.0, None)), self._log_target() + np.log1p(error)

    def _log_target(self) -> np.ndarray:
        return np.log(self.matched_target())

    def matched_target(self) -> np.ndarray:
        """The target's C11, C22, C33, shape (3,), the components matched (target_stiffness only)."""
        return np.asarray(self.target)[list(NORMAL_STIFFNESS)]

    def relative_errors(self, C: np.ndarray) -> np.ndarray:
        """|C_ii − T_ii| / T_ii for i = 1, 2, 3 of a 6×6 stiffness (target_stiffness only)."""
        target = self.matched_target()
        return np.abs(np.diag(C)[:3] - target) / target

    def display(self, value: float, evaluator: Evaluator) -> float:
        """A first objective value as people read it: the metric itself, or the error (0.1 = 10 %)."""
        if self.kind == "target_stiffness":
            return -value
        return value if self.kind == "weighted" else value * float(self.signs(evaluator)[0])

    def axis_label(self, evaluator: Evaluator) -> str:
        """Label with unit for :meth:`display` values, e.g. ``toughness (MJ/m³)``."""
        if self.kind == "target_stiffness":
            return "largest relative error of C11, C22, C33"
        if self.kind == "weighted":
            return "weighted objective"
        return evaluator.metric(self.metrics[0]).label

    def describe(self, evaluator: Evaluator | None = None) -> str:
        """One line for reports, e.g. ``maximise toughness`` (``optimise toughness`` without the ``evaluator``
        that says which way the metric is better)."""
        if self.kind == "metric":
            if evaluator is not None:
                return f"{'maximise' if self.signs(evaluator)[0] > 0 else 'minimise'} {self.metrics[0]}"
            return f"optimise {self.metrics[0]}"
        if self.kind == "weighted":
            return "optimise " + " + ".join(f"{w:g}·{m}" for w, m in zip(self.weights, self.metrics))
        if self.kind == "pareto":
            return f"Pareto front of {self.metrics[0]} and {self.metrics[1]}"
        c = self.target
        return f"match C11, C22, C33 = {c[0]:.4g}, {c[3]:.4g}, {c[5]:.4g} (largest relative error)"
