"""The fast labels a campaign pre-trains its surrogate on (multi-fidelity, ``CampaignConfig.pretrain``).

``count`` seeded random designs of the campaign's space (rng ``[seed, 1]``, duplicates dropped)
are labelled at the fast fidelity of the campaign's plate set-up (:class:`PretrainingSet`). The
labels live in the store under the fast evaluator's key like any other label, so a campaign
that reopens reads them instead of computing them again, and they do not count in the budget.
The strategy's surrogate learns them first (:meth:`engine.search.genetic.SurrogateStrategy.pretrain`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from designs.base import Design
from engine.evaluators.fracture import FIDELITY_METRICS
from engine.evaluators.labelling import evaluation_from_label, label_designs, recorded_key
from engine.evaluators.protocol import Evaluation, Evaluator
from engine.store import Store

__all__ = ["PretrainingSet"]


class PretrainingSet:
    """The pre-training designs of one campaign and their stored fast labels.

    Parameters
    ----------
    store : Store
        Where the labels are kept.
    space : design space
        Has ``sample(n, rng)`` (the campaign's space).
    evaluator : Evaluator
        The fast-fidelity fracture evaluator (its ``fidelity`` names the metrics learnt).
    count : int
        Designs drawn (fewer after duplicates are dropped).
    seed : int
        The campaign's seed.
    stored_version : str or None
        Read the labels made by this older solver version (:func:`recorded_key`): those of a
        campaign labelled by it, which can be shown but not continued.
    """

    def __init__(self, store: Store, space: Any, evaluator: Evaluator, count: int, seed: int,
                 stored_version: str | None = None) -> None:
        self.store = store
        self.evaluator = evaluator
        drawn = space.sample(count, np.random.default_rng([seed, 1]))
        self.designs: list[Design] = list({d.content_hash(): d for d in drawn}.values())
        self.key = evaluator.key()
        if stored_version is not None:
            self.key = recorded_key(store, self.key, [d.content_hash() for d in self.designs], stored_version)

    def labels(self) -> dict[str, Evaluation]:
        """Stored fast evaluations of the pre-training designs, by design hash."""
        hashes = {d.content_hash() for d in self.designs}
        return {label.design_hash: evaluation_from_label(label)
                for label in self.store.labels(self.key) if label.design_hash in hashes}

    def values(self) -> np.ndarray | None:
        """The fast metrics of every design, shape (designs, metrics), NaN where a label failed or a metric
        is missing; ``None`` while a design has no stored label."""
        labels = self.labels()
        evaluations = [labels.get(d.content_hash()) for d in self.designs]
        if None in evaluations:
            return None
        names = FIDELITY_METRICS[self.evaluator.fidelity]
        return np.array([[_number(e.metrics.get(name)) if e.ok else np.nan for name in names] for e in evaluations])

    def label(
        self,
        executor: Executor,
        *,
        progress: Callable[[float, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> bool:
        """Label the designs still missing through ``executor``; whether all are labelled (False: stopped)."""
        labelled = self.labels()
        pending = [d for d in self.designs if d.content_hash() not in labelled]
        total, base = len(self.designs), len(self.designs) - len(pending)

        def on_label(done: int, _: int) -> None:
            if progress is not None:
                progress(0.0, f"pre-training: {base + done}/{total} fast labels")

        report = label_designs(self.store, pending, self.evaluator, executor, progress=on_label,
                               should_stop=should_stop)
        return not report.cancelled

    def status(self) -> dict[str, Any]:
        """JSON summary: designs, labelled, fidelity."""
        return {"designs": len(self.designs), "labelled": len(self.labels()), "fidelity": self.evaluator.fidelity}


def _number(value: Any) -> float:
    """A metric as a float; NaN for a missing (None) or non-numeric value."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")
