"""Self-learning strategy: the screen's mutants against the binomial law, phase-out of inferior designs,
good/bad ties, determinism and replay, refused settings, and campaigns against random search on
fast-fidelity labels (one linear solve each)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.special import comb
from scipy.stats import binom, chisquare

from engine.campaigns.campaign import Campaign
from engine.search.genetic import random_grids
from engine.search.genetic_operators import hamming_matrix
from engine.search.registry import make_strategy
from engine.search.self_learning import SelfLearning
from engine.search.spaces import GridSpace, HierarchicalSpace
from engine.store import Store
from test_engine_search_genetic import drive  # the known-truth driver (optimum: 16 matching blocks)

QUICK = {"screen": 5000}
FAST = {"space": "hierarchical", "strategy": "self-learning", "budget": 30, "batch_size": 10, "seed": 0,
        "objective": {"kind": "metric", "metrics": ["energy_release_rate_per_stress_squared"]},
        "evaluator": {"kind": "fracture", "fidelity": "fast"}, "strategy_settings": QUICK}
def test_mutants_follow_the_binomial_law_and_come_from_the_elite_only() -> None:
    strategy = SelfLearning(HierarchicalSpace(), 0, elite=3, noise=0.1)
    grids = random_grids(strategy.space, 20, np.random.default_rng(1))
    fitness = np.arange(20.0)  # the last three are the elite
    mutants, parents = strategy.mutants(grids, fitness, 20000, n=8)
    assert set(parents.tolist()) == {17, 18, 19}  # inferior designs are phased out
    assert chisquare(np.bincount(parents - 17)).pvalue > 1e-3  # parents drawn uniformly from the elite
    distance = np.count_nonzero(mutants != grids[parents], axis=(1, 2))
    observed = np.bincount(distance, minlength=17)[:6]
    expected = binom.pmf(np.arange(6), 16, 0.1) * len(distance)  # each of 16 blocks changes with p = 0.1
    assert chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 1e-3


def test_the_screen_is_mostly_random_with_the_mutant_share_near_the_elite() -> None:
    strategy = SelfLearning(HierarchicalSpace(), 0, screen=10000, mutant_fraction=0.1, elite=2, noise=0.05)
    grids = random_grids(strategy.space, 30, np.random.default_rng(2))
    pool = strategy.candidates(grids, np.arange(30.0), 8)
    assert len(np.unique(pool.reshape(len(pool), -1), axis=0)) == len(pool)  # no design twice
    near = hamming_matrix(np.concatenate([grids[28:], pool]))[:2, 2:].min(axis=0) <= 4
    # Occupancy: ~500 mutants per parent; a given design d blocks away has probability
    # q_d = (0.05 / 2)**d 0.95**(16 − d) per mutant, and there are C(16, d) 2**d of them, so the
    # distinct mutants within 4 blocks number Σ_d C(16, d) 2**d (1 − (1 − q_d)**500) per parent;
    # random designs fall within 4 blocks of a parent with probability binom.cdf(4, 16, 2/3).
    d = np.arange(5)
    q = 0.025**d * 0.95 ** (16 - d)
    expected = 2 * np.sum(comb(16, d) * 2.0**d * (1 - (1 - q) ** 500)) + 2 * 9000 * binom.cdf(4, 16, 2 / 3)
    assert abs(near.sum() - expected) < 0.1 * expected  # expected 258
    far_from_rest = hamming_matrix(np.concatenate([grids[:28], pool[near]]))[:28, 28:].min(axis=0)
    assert np.median(far_from_rest) >= 6


def test_labels_that_tie_at_the_good_bad_threshold_give_a_random_batch() -> None:
    strategy = SelfLearning(HierarchicalSpace(), 0, min_train=4, **QUICK)
    designs = strategy.ask(10)
    strategy.tell(designs, np.r_[np.ones(9), 0.0][:, None])  # median 1: nothing is above it
    strategy.ask(5)
    assert strategy.history[-1]["kind"] == "random" and "tie" in strategy.history[-1]["reason"]
    designs = strategy.ask(5)
    strategy.tell(designs, np.full((5, 1), np.nan))  # failed labels are left out of training
    assert strategy.training_data()[0].shape[0] == 10


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"screen": 5}, "screen must be an integer in 10..10000000"),
     ({"mutant_fraction": -0.1}, "mutant_fraction must be a probability in"),
     ({"noise": 0.0}, "noise must be > 0 when mutant_fraction > 0"),
     ({"good_quantile": 1.0}, "good_quantile must lie strictly between 0 and 1"),
     ({"elite": 0}, "elite must be an integer >= 1"),
     ({"model": "svm"}, "unknown surrogate model 'svm'; allowed: cnn, linear, cnn-classifier, linear-classifier"),
     ({"members": 0}, "members must be an integer in 1..32"),
     ({"min_distance": 17}, "min_distance must be an integer in 1..16"),
     ({"screens": 5}, r"unknown setting\(s\) \['screens'\] of the self-learning strategy")],
)
def test_bad_settings_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_strategy("self-learning", HierarchicalSpace(), 0, settings)


@pytest.mark.parametrize("model", ["linear-classifier", "cnn-classifier", "linear", "cnn"])
def test_same_seed_same_proposals_for_every_model(model: str) -> None:
    runs = [drive(SelfLearning(HierarchicalSpace(), seed, min_train=8, model=model, **QUICK), 3)[0]
            for seed in (4, 4, 5)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert runs[0][0] == [d.content_hash() for d in make_strategy("random", HierarchicalSpace(), 4).ask(8)]
    assert len({h for batch in runs[0] for h in batch}) == 24


def test_the_loop_climbs_a_known_truth_objective_faster_than_random() -> None:
    """64 calls in batches of 8, seeds 0–4, Gu et al.'s linear good/bad classifier.

    Measured: best 12, 12, 14, 14, 13 of 16 blocks; random search 11, 10, 9, 10, 10.
    """
    finals: dict[str, list[float]] = {"loop": [], "random": []}
    for seed in range(5):
        for name, strategy in (("loop", SelfLearning(HierarchicalSpace(), seed, min_train=8,
                                                     model="linear-classifier", **QUICK)),
                               ("random", make_strategy("random", HierarchicalSpace(), seed))):
            finals[name].append(drive(strategy, 8)[1])
    assert np.median(finals["loop"]) >= np.median(finals["random"]) + 2


def test_checkerboards_with_a_bounded_soft_fraction_stay_inside_it() -> None:
    strategy = SelfLearning(GridSpace(6, 6, soft_fraction=(0.25, 0.5)), 0, min_train=8, model="linear", **QUICK)
    for _ in range(3):
        designs = strategy.ask(8)
        grids = np.stack([strategy.space.to_grid(d) for d in designs])
        soft = (grids == 0).mean(axis=(1, 2))
        assert soft.min() >= 0.25 and soft.max() <= 0.5
        strategy.tell(designs, grids[:, 2:4, :2].sum(axis=(1, 2))[:, None].astype(float))
    assert strategy.history[-1]["kind"] == "model"


def _history(campaign: Campaign) -> list[tuple[int, str, list[float]]]:
    return [(r.candidate.id, r.candidate.design.content_hash(), [float(v) for v in r.values])
            for r in campaign.results()]


def test_a_pareto_campaign_replays_identically(tmp_path: Path) -> None:
    # stiff plates tend to have both objectives good: seed 2 draws designs with a front of three (seed 0's,
    # under the fast labels of solver version 9, is one design better in both)
    config = {**FAST, "seed": 2,
              "objective": {"kind": "pareto", "metrics": ["stiffness", "energy_release_rate_per_stress_squared"]}}
    store = Store(tmp_path)
    campaign = Campaign.create(store, "p", config)
    with ThreadPoolExecutor(2) as executor:
        assert campaign.run(executor) == "finished"
    assert [h["kind"] for h in campaign._parts.strategy.history] == ["random", "model", "model"]
    again = Campaign.open(store, "p")
    again._strategy()  # replayed: it proposes the stored designs again, or raises
    assert _history(again) == _history(campaign)
    assert len(campaign.pareto_front()) >= 2


@pytest.mark.slow
def test_the_self_learning_loop_beats_random_search_on_hierarchical_designs(tmp_path: Path) -> None:
    """Fast-fidelity G/σ² (minimised), 100 solver calls in batches of 10, median over 5 seeds, default model
    (CNN good/bad classifier). Measured (pytest -s, solver version 7): −6.3e-4 vs random −8.7e-4 mm/MPa
    (values to maximise; the loop wins on every seed). After 60 calls: −8.3e-4 vs −9.4e-4 (with the
    clamped grips of solver version 6: −6.1e-4 vs −8.4e-4)."""
    store = Store(tmp_path)
    finals: dict[str, list[float]] = {"self-learning": [], "random": []}
    with ThreadPoolExecutor(2) as executor:
        for strategy in finals:
            for seed in range(5):
                campaign = Campaign.create(store, f"{strategy}-{seed}", {
                    **FAST, "strategy": strategy, "budget": 100, "seed": seed,
                    "strategy_settings": {} if strategy == "random" else {"screen": 20000}})
                campaign.run(executor)
                finals[strategy].append(campaign.best_so_far()[-1])
    loop, random = np.median(finals["self-learning"]), np.median(finals["random"])
    print(f"\nself-learning {loop:.3e}, random {random:.3e} (G/σ², mm/MPa, negated)")
    assert loop > random * 0.85  # at least 15 % lower G/σ² than random search (values are negative)
