"""The closed loop: a strategy proposes, an evaluator labels through an executor, the store keeps all.

A :class:`Campaign` lives in the store: its configuration in ``campaigns``, every candidate it
proposed in ``campaign_candidates`` (sequence number, batch, and how many batches its strategy
had been told when it proposed them), every label in ``labels`` under the evaluator's key. A
candidate is pending until its design has that label. A campaign with ``pretrain`` first
labels that many seeded random designs at the fast fidelity (stored under the fast key, not
counted in the budget) and pre-trains its strategy's surrogate on them. Nothing else is
state: before a campaign's strategy proposes, learns or predicts again, it is rebuilt by replaying
the stored history (asks and tells in their original order; the strategy is deterministic), so a
campaign killed at any moment resumes where it stopped, repeats no stored label, and ends where an
uninterrupted run ends. Showing a campaign (status, results, best designs, exports) reads the
store alone: a Bayesian campaign of 40 labels opens in a fraction of a second instead of the
about 19 s its Gaussian-process fits take to replay.

``ask(n)`` proposes candidates (marked pending); ``tell(results)`` records evaluations of
candidates in any order, failures included; a batch reaches the strategy once all of its
candidates are labelled, batches in order. :meth:`Campaign.run` loops ask → label → tell until
the budget of solver calls is spent.

A campaign whose labels were made by an older solver version (or other settings) than the
code's evaluator makes is *outdated* (:attr:`Campaign.outdated` says why): it opens with the
labels it was given, for its report, plots and exports, but asks, tells and runs are refused,
so old and new labels never mix in one campaign.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from designs.base import Design
from designs.registry import design_from_record
from engine.campaigns.config import Built, CampaignConfig
from engine.campaigns.pretraining import PretrainingSet
from engine.evaluators.labelling import evaluation_from_label, label_designs, record_evaluation, recorded_key
from engine.evaluators.protocol import Evaluation
from engine.search.protocol import Strategy, pareto_fitness
from engine.store import SolverKey, Store, StoreError, StoredKey, same_labels

__all__ = ["CAMPAIGN_STATES", "CANNOT_RESUME", "Campaign", "Candidate", "Result", "is_design_group", "is_outdated"]

#: States a campaign record can be in.
CAMPAIGN_STATES = ("created", "running", "paused", "finished", "interrupted")
#: How every message of a campaign whose stored history cannot be replayed ends (:meth:`Campaign._strategy`).
CANNOT_RESUME = "it cannot resume — start a new campaign"


@dataclass(frozen=True)
class Candidate:
    """A proposed design.

    Attributes
    ----------
    id : int
        Sequence number in the campaign (0, 1, ... in proposal order).
    batch : int
        Batch it was proposed in.
    design : Design
    """

    id: int
    batch: int
    design: Design


@dataclass(frozen=True)
class Result:
    """A labelled candidate: its evaluation and objective values (to maximise; NaN if failed)."""

    candidate: Candidate
    evaluation: Evaluation
    values: np.ndarray


def _labelling_key(store: Store, recorded: StoredKey | None, current: SolverKey,
                   rows: list[tuple[int, int, int, str]]) -> SolverKey | StoredKey:
    """The key a campaign's labels are under: ``current``, unless the campaign has candidates and its
    record names another key, or (a record from before keys were kept) the labels of its told
    batches are all under one key of another solver version."""
    if not rows:
        return current
    if recorded is not None:
        return current if same_labels(recorded, current) else recorded
    told = max(row[2] for row in rows)  # batches told when the last batch was asked: 0 .. told-1
    return recorded_key(store, current, [row[3] for row in rows if row[1] < told])


def is_design_group(record: Mapping[str, Any]) -> bool:
    """Whether a campaign record of the store is a group of designs that ``matloop label --campaign``
    linked (its configuration names the labelling solver, not a strategy), not a design campaign."""
    config = record.get("config")
    return isinstance(config, Mapping) and "strategy" not in config and "solver" in config


def is_outdated(store: Store, record: Mapping[str, Any]) -> bool:
    """Whether the campaign of ``record`` (:meth:`Store.campaigns`) was labelled by another solver version or
    settings than this matloop's (:attr:`Campaign.outdated`; a campaign from before stores kept its solver key is
    judged by its labels). False for a group of designs and where its configuration no longer builds (opening
    the campaign then says why)."""
    if is_design_group(record):
        return False
    try:
        current = CampaignConfig.from_json(record["config"]).make_evaluator().key()
    except (ValueError, TypeError, KeyError):
        return False
    # what opening it finds (Campaign.outdated), without building its strategy or reading its designs
    return isinstance(_labelling_key(store, record.get("solver_key"), current, store.candidates(int(record["id"]))),
                      StoredKey)


class Campaign:
    """A design campaign recorded in a store (use :meth:`create` or :meth:`open`)."""

    def __init__(self, store: Store, record: Mapping[str, Any]) -> None:
        self.store = store
        self.id = int(record["id"])
        self.name = str(record["name"])
        if is_design_group(record):
            raise ValueError(
                f"{self.name!r} is a group of {record.get('designs', 0)} designs that 'matloop label --campaign "
                f"{self.name}' linked, not a design campaign: it has no strategy to run, resume or report. Its designs "
                "and their labels are in the Design library; 'matloop campaign new' starts a campaign")
        self.config = CampaignConfig.from_json(record["config"])
        self._parts: Built = self.config.build()
        rows = store.candidates(self.id)
        current = self._parts.evaluator.key()
        self.key = _labelling_key(store, record.get("solver_key"), current, rows)
        self._key_recorded = bool(rows) and record.get("solver_key") is not None
        #: Why the campaign cannot continue (its labels were made by another solver version or
        #: settings: shown, never mixed with new ones), or None.
        self.outdated: str | None = None
        if isinstance(self.key, StoredKey):
            change = (f"version {self.key.version}; this matloop labels with version {current.version}"
                      if self.key.version != current.version else
                      f"version {current.version} with other solver settings than this matloop's (a default "
                      "setting has changed since)")
            self.outdated = (f"campaign {self.name!r} was labelled by {current.name} {change}, so the campaign can "
                             "be shown and exported but not continued — start a new campaign with its configuration")
        self._rows = rows
        self._candidates = self._stored_candidates(rows)
        self._told = 0  # batches told to the strategy
        evaluator = self._parts.pretrain_evaluator
        self._pretraining = None if evaluator is None else PretrainingSet(
            store, self._parts.space, evaluator, self.config.pretrain, self.config.seed,
            stored_version=self.key.version if self.outdated else None)
        self._pretrained = False
        #: Whether the strategy was rebuilt from the history (only once it proposes, learns or predicts), or why not.
        self._replayed: bool | StoreError = False

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def create(cls, store: Store, name: str, config: CampaignConfig | Mapping[str, Any]) -> "Campaign":
        """Check ``config`` (every mistake before any work) and record a new campaign."""
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValueError(f"a campaign needs a name of 1..100 characters, got {name!r}")
        config = config if isinstance(config, CampaignConfig) else CampaignConfig.from_json(config)
        config.check_new()
        store.create_campaign(name.strip(), config.to_json())
        return cls.open(store, name.strip())

    @classmethod
    def open(cls, store: Store, name: str) -> "Campaign":
        """The campaign ``name`` as the store holds it (its strategy is replayed only once it proposes, learns or
        predicts again)."""
        return cls(store, store.campaign(name))

    @property
    def objective(self):  # noqa: ANN201 - engine.campaigns.objectives.Objective
        """The campaign's objective."""
        return self._parts.objective

    @property
    def evaluator(self):  # noqa: ANN201 - engine.evaluators.protocol.Evaluator
        """The campaign's evaluator."""
        return self._parts.evaluator

    @property
    def state(self) -> str:
        """``created``, ``running``, ``paused``, ``finished``, or ``interrupted``: recorded as running by a
        process that has exited (:meth:`Store.campaigns`)."""
        return str(self.store.campaign(self.name)["state"])

    def _set_state(self, state: str) -> None:
        self.store.set_campaign_state(self.id, state)

    # ------------------------------------------------------------------ replay
    def _stored_candidates(self, rows: list[tuple[int, int, int, str]]) -> list[Candidate]:
        """The candidates of the stored history ``rows`` (:meth:`Store.candidates`), their designs read from the store."""
        records = {r.hash: r for r in self.store.designs(hashes=[row[3] for row in rows])}
        missing = sorted({row[3] for row in rows} - set(records))
        if missing:
            raise StoreError(f"campaign {self.name!r}: {len(missing)} of its designs are missing from the store "
                             f"(first {missing[0][:12]})")
        designs = {h: design_from_record(r.space, r.genome) for h, r in records.items()}
        return [Candidate(seq, batch, designs[design_hash]) for seq, batch, _, design_hash in rows]

    def _strategy(self) -> Strategy:
        """The strategy, pre-trained and taught the stored history first (once; showing a campaign needs neither).

        Raises
        ------
        StoreError
            The history cannot be replayed (:meth:`_replay`).
        """
        if isinstance(self._replayed, StoreError):  # the strategy is left part-way through the history
            raise self._replayed
        if not self._replayed:
            self._pretrained = self._pretraining is None or self._pretrain()
            try:
                self._replay()
            except StoreError as exc:
                self._replayed = exc
                raise
            self._replayed = True
        return self._parts.strategy

    def _replay(self) -> None:
        """Rebuild the strategy from the stored history (asks and tells in their original order): each batch is
        asked again after as many batches were told as when it was first asked, and must propose the stored
        designs."""
        if self._rows and not self._pretrained:
            raise StoreError(f"campaign {self.name!r}: the fast labels that pre-trained its surrogate are missing from "
                             f"the store; {CANNOT_RESUME}")
        told_before = {seq: told for seq, _, told, _ in self._rows}
        batches: dict[int, list[Candidate]] = {}
        for candidate in self._candidates:
            batches.setdefault(candidate.batch, []).append(candidate)
        for batch in sorted(batches):
            members = batches[batch]
            self._advance(until=told_before[members[0].id])
            designs = self._parts.strategy.ask(len(members))
            if [d.content_hash() for d in designs] != [c.design.content_hash() for c in members]:
                raise StoreError(
                    f"campaign {self.name!r}: replaying its strategy proposes other designs than it stored in batch "
                    f"{batch} (was the code or the environment changed?); {CANNOT_RESUME}")
        self._advance()

    def _labels(self) -> dict[str, Evaluation]:
        hashes = {c.design.content_hash() for c in self._candidates}
        return {label.design_hash: evaluation_from_label(label) for label in self.store.labels(self.key)
                if label.design_hash in hashes}

    def _advance(self, until: int | None = None) -> None:
        """Tell the strategy every complete batch in order (up to ``until`` batches in total)."""
        labels = None
        batches = sorted({c.batch for c in self._candidates})
        while self._told < len(batches) and (until is None or self._told < until):
            members = [c for c in self._candidates if c.batch == batches[self._told]]
            labels = self._labels() if labels is None else labels
            if any(c.design.content_hash() not in labels for c in members):
                if until is not None:
                    raise StoreError(f"campaign {self.name!r}: batch {batches[self._told]} was told before the next "
                                     f"was asked, but its labels are missing from the store; {CANNOT_RESUME}")
                return
            evaluations = [labels[c.design.content_hash()] for c in members]
            values = np.array([self._values(e) for e in evaluations])
            if self._parts.strategy.models_outputs:
                outputs = np.array([self.objective.outputs(e) for e in evaluations])
                self._parts.strategy.tell([c.design for c in members], values, outputs=outputs)
            else:
                self._parts.strategy.tell([c.design for c in members], values)
            self._told += 1

    def _values(self, evaluation: Evaluation) -> np.ndarray:
        return self.objective.values(evaluation, self.evaluator)

    # ------------------------------------------------------------------ multi-fidelity pre-training
    def pretraining_designs(self) -> list[Design]:
        """The distinct seeded random designs whose fast labels pre-train the surrogate (none without pre-training)."""
        return [] if self._pretraining is None else self._pretraining.designs

    def _pretrain(self) -> bool:
        """Pre-train the strategy if every pre-training design has its fast label; whether it is pre-trained."""
        values = self._pretraining.values()
        if values is None:
            return False
        self._parts.strategy.pretrain(self._pretraining.designs, values)
        return True

    def label_pretraining(
        self,
        executor: Executor,
        *,
        progress: Callable[[float, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> bool:
        """Label the pre-training designs still missing (fast fidelity, through ``executor``) and pre-train.

        Returns
        -------
        bool
            Whether the surrogate is pre-trained (False: stopped by ``should_stop`` first).
        """
        self._strategy()
        if not self._pretrained:
            self._pretrained = (self._pretraining.label(executor, progress=progress, should_stop=should_stop)
                                and self._pretrain())
        return self._pretrained

    # ------------------------------------------------------------------ ask / tell
    @property
    def spent(self) -> int:
        """Solver calls used: candidates proposed so far."""
        return len(self._candidates)

    @property
    def remaining(self) -> int:
        """Solver calls left in the budget."""
        return max(self.config.budget - self.spent, 0)

    def ask(self, n: int | None = None) -> list[Candidate]:
        """Propose ``n`` candidates (default: a batch, within the budget) and record them as pending.

        A campaign's first batch marks it running, run by this process: until its budget is told, or this
        process exits (``interrupted``), another process cannot :meth:`run` it.

        Raises
        ------
        ValueError
            ``n`` < 1 or beyond the remaining budget.
        StoreError
            The campaign is outdated (:attr:`outdated`).
        """
        if self.outdated:
            raise StoreError(self.outdated)
        strategy = self._strategy()
        if not self._pretrained:
            raise ValueError(f"campaign {self.name!r} pre-trains its surrogate on {len(self.pretraining_designs())} fast "
                             "labels first: label them with label_pretraining(executor) (run does it)")
        n = min(self.config.batch_size, self.remaining) if n is None else n
        if isinstance(n, bool) or int(n) != n or not 1 <= int(n) <= self.remaining:
            raise ValueError(f"ask for 1..{self.remaining} candidates (the rest of the budget), got {n!r}")
        designs = strategy.ask(int(n))
        if not self._key_recorded:  # the first batch (or the first since this store learnt keys)
            self.store.set_campaign_key(self.id, self.key)
            self._key_recorded = True
        hashes = self.store.add_designs(designs)
        batch = 1 + max((c.batch for c in self._candidates), default=-1)
        seqs = self.store.add_candidates(self.id, batch, self._told, hashes,
                                         [strategy.predictions.get(h) for h in hashes])
        new = [Candidate(seq, batch, design) for seq, design in zip(seqs, designs)]
        self._candidates += new
        if self.state == "created":
            self._set_state("running")
        return new

    def pending(self) -> list[Candidate]:
        """Candidates whose designs have no label under the campaign's evaluator yet."""
        labels = self._labels()
        return [c for c in self._candidates if c.design.content_hash() not in labels]

    def tell(self, results: Mapping[int, Evaluation]) -> None:
        """Record evaluations of candidates (by id, any order, failures included); the campaign is finished
        once its whole budget is labelled.

        Raises
        ------
        ValueError
            An id that is not a candidate of this campaign, or an ``ok`` evaluation without a finite number for the
            objective (nothing is recorded then: the store's labels are shared with every later use).
        StoreError
            The campaign is outdated (:attr:`outdated`).
        """
        if self.outdated:
            raise StoreError(self.outdated)
        self._strategy()
        by_id = {c.id: c for c in self._candidates}
        unknown = sorted(set(results) - set(by_id))
        if unknown:
            raise ValueError(f"not candidates of campaign {self.name!r}: {unknown}")
        for cid, evaluation in results.items():
            if evaluation.ok and not np.isfinite(self.objective.values(evaluation, self.evaluator)).all():
                needed = "C (6×6)" if self.objective.kind == "target_stiffness" else ", ".join(self.objective.metrics)
                raise ValueError(f"candidate {cid}: an ok evaluation needs finite numbers for {needed}, got "
                                 f"{dict(evaluation.metrics)!r}; nothing was recorded")
        for cid, evaluation in results.items():
            record_evaluation(self.store, by_id[cid].design.content_hash(), self.key, evaluation)
        self._advance()
        if self.remaining == 0 and not self.pending():
            self._set_state("finished")

    # ------------------------------------------------------------------ the loop
    def run(
        self,
        executor: Executor,
        *,
        progress: Callable[[float, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> str:
        """Ask, label (through ``executor``, skipping stored labels) and tell until the budget is spent.

        Returns
        -------
        str
            ``"finished"`` or ``"paused"`` (``should_stop`` said so; resume with :meth:`open` + :meth:`run`).
        """
        if self.outdated:
            raise StoreError(self.outdated)
        before = self.state
        self._set_state("running")  # refused while another process runs this campaign
        try:
            self._strategy()
        except BaseException:  # a history that cannot be replayed: refused, its state as it was (or paused)
            if before != "running":  # running: by this process (ask), which it still is
                self._set_state("paused" if before == "interrupted" else before)
            raise
        try:
            if not self.label_pretraining(executor, progress=progress, should_stop=should_stop):
                self._set_state("paused")
                return "paused"
            while True:
                pending = self.pending()
                if not pending:
                    if self.remaining == 0:
                        self._set_state("finished")
                        return "finished"
                    pending = self.ask()
                done_before = self.spent - len(pending)

                def on_label(done: int, total: int, base: int = done_before) -> None:
                    if progress is not None:
                        progress((base + done) / self.config.budget, self._progress_message(base + done))

                report = label_designs(self.store, [c.design for c in pending], self.evaluator, executor,
                                       progress=on_label, should_stop=should_stop)
                self._advance()
                if report.cancelled or (should_stop is not None and should_stop()):
                    self._set_state("paused")
                    return "paused"
        except BaseException:  # interrupted (Ctrl-C, a cancelled job): stored labels stay, resume later
            self._set_state("paused")
            raise

    def _progress_message(self, labelled: int) -> str:
        best = self.best(1)
        text = f"{labelled}/{self.config.budget} solver calls"
        if best and self.objective.n_values == 1:
            text += f", best {self.objective.describe().split(' ', 1)[1]}: {self._shown(best[0])}"
        return text

    def _shown(self, result: Result) -> str:
        """The objective value(s) of ``result`` as people read them (the metric, or the error)."""
        if self.objective.n_values == 1:
            return f"{self.objective.display(result.values[0], self.evaluator):.4g}"
        return ", ".join(f"{v:.4g}" for v in result.values)

    # ------------------------------------------------------------------ results
    def results(self) -> list[Result]:
        """Every labelled candidate, in proposal order."""
        labels = self._labels()
        return [Result(c, labels[h], self._values(labels[h])) for c in self._candidates
                if (h := c.design.content_hash()) in labels]

    def best(self, k: int = 5) -> list[Result]:
        """The ``k`` best labelled candidates (Pareto objectives: by non-domination rank, then crowding)."""
        results = [r for r in self.results() if np.isfinite(r.values).all()]
        if not results:
            return []
        fitness = pareto_fitness(np.array([r.values for r in results]))
        order = np.argsort(-fitness, kind="stable")
        return [results[i] for i in order[:k]]

    def pareto_front(self) -> list[Result]:
        """Labelled candidates no other candidate beats in every objective value."""
        results = [r for r in self.results() if np.isfinite(r.values).all()]
        if not results:
            return []
        fitness = pareto_fitness(np.array([r.values for r in results]))
        return [r for r, f in zip(results, fitness) if f >= 0.0]  # non-domination rank 0

    def best_so_far(self) -> np.ndarray:
        """Best first objective value (to maximise) after each candidate in proposal order.

        NaN before the first successful label and at candidates still pending; a failed label
        keeps the best so far.
        """
        by_seq = {r.candidate.id: r.values[0] for r in self.results()}
        best, trace = -np.inf, []
        for candidate in self._candidates:
            if candidate.id not in by_seq:
                trace.append(np.nan)
                continue
            if np.isfinite(by_seq[candidate.id]):
                best = max(best, float(by_seq[candidate.id]))
            trace.append(best if np.isfinite(best) else np.nan)
        return np.array(trace)

    def surrogate_accuracy(self) -> list[dict[str, float]]:
        """How well the strategy's surrogate predicted each batch before learning its labels.

        Returns
        -------
        list of dict
            Per batch with at least three predicted and labelled designs: ``solver calls``
            (after the batch), ``Spearman`` (rank correlation of prediction and first objective
            value) and ``R²`` (of the prediction; NaN where the surrogate predicts ranks or class
            probabilities rather than values). Empty for strategies without a surrogate. The
            predictions are those kept in the store when each design was proposed (:meth:`_predictions`).

        Raises
        ------
        StoreError
            A campaign of an older store, whose predictions were not kept, cannot replay its strategy.
        """
        from scipy.stats import spearmanr

        predicted = self._predictions()
        values = {r.candidate.id: r.values[0] for r in self.results() if np.isfinite(r.values[0])}
        rows = []
        for batch in sorted({c.batch for c in self._candidates}):
            pairs = [(predicted[c.id], values[c.id]) for c in self._candidates
                     if c.batch == batch and c.id in values and c.id in predicted]
            if len(pairs) < 3:
                continue
            p, v = np.array(pairs).T
            calls = 1 + max(c.id for c in self._candidates if c.batch == batch)
            r2 = float("nan")
            if self._parts.strategy.predictions_are_values and self.objective.n_values == 1 and np.ptp(v) > 0:
                r2 = 1.0 - float(np.sum((v - p) ** 2) / np.sum((v - v.mean()) ** 2))
            rows.append({"solver calls": float(calls), "Spearman": float(spearmanr(p, v).statistic), "R²": r2})
        return rows

    def _predictions(self) -> dict[int, float]:
        """The surrogate's prediction of each predicted candidate, by id, as kept in the store when it was proposed;
        a campaign of an older store replays its strategy once for them, and they are kept from then on.

        Raises
        ------
        StoreError
            That replay is not possible (the message ends with :data:`CANNOT_RESUME`).
        """
        kept = self.store.predictions(self.id)
        if kept is None:
            by_hash = self._strategy().predictions
            kept = {c.id: by_hash[h] for c in self._candidates if (h := c.design.content_hash()) in by_hash}
            self.store.keep_predictions(self.id, kept)
        return kept

    def stop_note(self) -> str:
        """How far a stopped campaign got, for its pause message: ``"3 of its 8 solver calls labelled, 1 proposed
        design to label on resume"`` (proposed designs count in the budget once proposed)."""
        labelled = len(self.results())
        pending = self.spent - labelled
        text = f"{labelled} of its {self.config.budget} solver calls labelled"
        return text + (f", {pending} proposed design{'' if pending == 1 else 's'} to label on resume" if pending else "")

    def status(self) -> dict[str, Any]:
        """JSON summary: name, state, budget, spent, pending, failed, objective, best value (``best`` as the
        strategy maximises it, ``best_shown`` as people read it: the metric, or a target's error), the process
        running it (``runner``, None unless running), and why an outdated campaign cannot continue (``outdated``,
        None for a current one)."""
        results = self.results()
        best = self.best(1)
        record = self.store.campaign(self.name)
        return {
            "name": self.name, "state": record["state"],
            "runner": record["runner_pid"] if record["state"] == "running" else None,
            "strategy": self.config.strategy, "space": self.config.space,
            "objective": self.objective.describe(self.evaluator), "budget": self.config.budget, "spent": self.spent,
            "labelled": len(results), "pending": self.spent - len(results),
            "failed": sum(not r.evaluation.ok for r in results),
            "best": None if not best else [float(v) for v in best[0].values],
            "best_shown": None if not best else self._shown(best[0]),
            "best_design": None if not best else best[0].candidate.design.content_hash(),
            "pretrain": None if self._pretraining is None else self._pretraining.status(),
            "outdated": self.outdated, "updated": time.time(),
        }

