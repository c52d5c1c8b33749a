"""Genetic strategy: seeded operators against exact probabilities, selection by fitness and diversity,
the DEAP loop on a known optimum, determinism and replay, refused settings, and campaigns against
random search on fast-fidelity labels (one linear solve each, :mod:`fem.lefm`)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from math import comb
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import chisquare

from engine.campaigns.campaign import Campaign
from engine.search.genetic import GeneticSearch, random_grids
from engine.search.genetic_operators import (
    block_mutation,
    flip_cells,
    hamming_matrix,
    niche_counts,
    patch_crossover,
    shared_fitness,
    tournament,
)
from engine.search.protocol import Strategy, pareto_fitness
from engine.search.registry import make_strategy
from engine.search.spaces import GridSpace, HierarchicalSpace
from engine.store import Store

#: Small GA settings for tests (the defaults are sized for campaigns: 200 × 100, 4 members).
QUICK = {"population": 60, "generations": 20, "members": 2}
FAST = {"space": "hierarchical", "strategy": "genetic", "budget": 40, "batch_size": 10, "seed": 0,
        "objective": {"kind": "metric", "metrics": ["energy_release_rate_per_stress_squared"]},
        "evaluator": {"kind": "fracture", "fidelity": "fast"}, "strategy_settings": QUICK}


# ---------------------------------------------------------------------------------------------- operators
@pytest.mark.parametrize(("rate", "n_types"), [(0.1, 2), (0.3, 3)])
def test_flip_cells_changes_each_cell_with_the_rate_to_a_uniform_other_code(rate: float, n_types: int) -> None:
    rng = np.random.default_rng(1)
    grid = np.zeros((8, 8), dtype=int)
    mutants = flip_cells(np.broadcast_to(grid, (4000, 8, 8)), rate, n_types, rng)
    changed = mutants != 0
    sd = np.sqrt(rate * (1 - rate) / changed.size)
    assert abs(changed.mean() - rate) < 5 * sd  # binomial: 256 000 cells
    new_codes = np.bincount(mutants[changed], minlength=n_types)[1:]
    assert n_types == 2 or chisquare(new_codes).pvalue > 1e-3  # the other codes equally likely
    assert (flip_cells(grid, 0.0, n_types, rng) == grid).all()
    assert (flip_cells(grid, 1.0, n_types, rng) != grid).all() and grid.sum() == 0  # parent untouched


def test_block_mutation_sets_one_rectangle_of_uniform_size_to_one_code() -> None:
    rng = np.random.default_rng(2)
    grid = np.zeros((8, 8), dtype=int)
    heights, codes = [], []
    for _ in range(3000):
        out = block_mutation(grid, 3, 2, rng)
        codes.append(int(out.max()))
        if out.max():
            rows, cols = np.nonzero(out)
            box = out[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
            assert (box == 1).all() and box.shape[0] <= 3 and box.shape[1] <= 3  # one full rectangle
            heights.append(box.shape[0])
    assert chisquare(np.bincount(codes, minlength=2)).pvalue > 1e-3  # the code: 0 or 1 alike
    assert chisquare(np.bincount(heights)[1:]).pvalue > 1e-3  # sides uniform in 1..3
    assert block_mutation(np.zeros((2, 2), dtype=int), 5, 2, rng).shape == (2, 2)  # clipped to the grid


def test_patch_crossover_swaps_one_rectangle_with_the_exact_cut_probabilities() -> None:
    rng = np.random.default_rng(3)
    a, b = np.zeros((6, 8), dtype=int), np.ones((6, 8), dtype=int)
    swapped = np.zeros((6, 8))
    draws = 6000
    for _ in range(draws):
        ca, cb = patch_crossover(a, b, rng)
        assert (ca + cb == 1).all()  # every cell from the same place of one parent, none lost
        rows, cols = np.nonzero(ca)
        assert ca[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()  # a rectangle: patches kept whole
        swapped += ca
    # cuts 0 <= r0 < r1 <= R uniform among pairs: P(row i inside) = (i + 1)(R − i) / C(R + 1, 2)
    p_rows = np.array([(i + 1) * (6 - i) for i in range(6)]) / comb(7, 2)
    p_cols = np.array([(j + 1) * (8 - j) for j in range(8)]) / comb(9, 2)
    expected = np.outer(p_rows, p_cols)
    assert np.abs(swapped / draws - expected).max() < 5 * np.sqrt(0.25 / draws)
    assert (a == 0).all() and (b == 1).all()


def test_hamming_matrix_and_niche_counts_against_scipy_and_hand_values() -> None:
    grids = np.random.default_rng(4).integers(0, 3, (30, 4, 5))
    flat = grids.reshape(30, -1)
    np.testing.assert_array_equal(hamming_matrix(grids), np.rint(cdist(flat, flat, "hamming") * 20))
    a = np.zeros((4, 4), dtype=int)
    b = a.copy()
    b[0, :2] = 1  # 2 cells from a
    c = np.ones((4, 4), dtype=int)  # 16 cells from a, 14 from b
    # sh(d) = 1 − d/4: a: 1 + 1 + 0.5, b: 1 + 2 × 0.5, c: alone
    np.testing.assert_allclose(niche_counts(np.stack([a, a, b, c]), 4), [2.5, 2.5, 2.0, 1.0])
    np.testing.assert_allclose(niche_counts(np.stack([a, a, b, c]), 0), 1.0)


def test_tournament_win_probabilities_match_the_order_statistics() -> None:
    rng = np.random.default_rng(5)
    scores = np.array([0.3, -2.0, 5.0, 1.0, 0.0])  # ranks (1 = worst): 3, 1, 5, 4, 2
    wins = np.bincount(tournament(scores, 60000, 3, rng), minlength=5)
    rank = np.array([3, 1, 5, 4, 2])
    expected = (rank**3 - (rank - 1) ** 3) / 5**3 * 60000
    assert chisquare(wins, expected).pvalue > 1e-3


def _clustered_population() -> tuple[np.ndarray, np.ndarray]:
    """Six copies of a best design A, a lone design B slightly worse and far from A, five poor lone designs."""
    rng = np.random.default_rng(6)
    a = np.zeros((8, 8), dtype=int)
    b = np.ones((8, 8), dtype=int)
    others = [rng.permutation(np.r_[np.zeros(32, int), np.ones(32, int)]).reshape(8, 8) for _ in range(5)]
    grids = np.stack([a] * 6 + [b] + others)
    fitness = np.array([1.0] * 6 + [0.9, 0.0, 0.1, 0.2, 0.3, 0.4])
    return grids, fitness


def test_selection_prefers_fit_parents_and_a_lone_design_over_a_crowd_of_copies() -> None:
    grids, fitness = _clustered_population()
    rng = np.random.default_rng(7)
    shared = np.bincount(tournament(shared_fitness(fitness, grids, 8), 20000, 3, rng), minlength=12)
    plain = np.bincount(tournament(shared_fitness(fitness, grids, 0), 20000, 3, rng), minlength=12)
    assert shared[6] > shared[:6].max() * 2  # diversity: B beats every copy of A
    assert plain[6] < plain[:6].min()  # without sharing, fitness alone: each copy of A beats B
    # fitness: among the lone poor designs, the fitter are chosen more often
    assert np.all(np.diff(shared[7:]) > 0) and np.all(np.diff(plain[7:]) > 0)
    assert shared_fitness(np.array([1.0, -np.inf, np.nan]), grids[:3], 8)[1:].tolist() == [0.0, 0.0]


def test_the_toolbox_selects_with_sharing_and_scores_a_population_in_one_batched_call() -> None:
    strategy = GeneticSearch(GridSpace(), 0, niche_radius=8, members=1)
    calls = []

    def predict(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(batch))
        value = -np.count_nonzero(batch.reshape(len(batch), -1), axis=1).astype(float)
        return value[:, None], np.zeros((len(batch), 1))

    toolbox = strategy.toolbox(predict)
    grids, fitness = _clustered_population()
    population = [toolbox.individual(g) for g in grids]
    scores = toolbox.map(toolbox.evaluate, population)
    assert calls == [7]  # one call for the 7 distinct grids of 12 individuals; copies come from the cache
    assert [s[0] for s in scores] == (-np.count_nonzero(grids.reshape(12, -1), axis=1)).tolist()
    for individual, f in zip(population, fitness):
        individual.fitness.values = (f,)
    chosen = toolbox.select(population, 6000)
    counts = [sum(c is population[i] for c in chosen) for i in range(12)]
    assert counts[6] > max(counts[:6])


def test_the_ga_finds_the_known_optimum_of_a_cheap_surrogate() -> None:
    target = np.random.default_rng(8).integers(0, 3, (4, 4))
    strategy = GeneticSearch(HierarchicalSpace(), 3, population=60, generations=40, members=1)
    calls = []

    def predict(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(batch))
        return -np.count_nonzero(batch != target, axis=(1, 2))[:, None].astype(float), np.zeros((len(batch), 1))

    toolbox = strategy.toolbox(predict)
    population = [toolbox.individual(g) for g in random_grids(strategy.space, 60, strategy.rng)]
    final, logbook = strategy.evolve(toolbox, population)
    assert len(calls) <= 41  # at most one batched surrogate call per generation
    assert logbook.select("best")[-1] == 0.0 and any((np.asarray(i) == target).all() for i in final)
    assert np.all(np.diff(logbook.select("best")) >= 0)  # elitism: the best never gets worse


def test_random_grids_draw_the_space_distribution() -> None:
    rng = np.random.default_rng(9)
    grids = random_grids(GridSpace(8, 8, soft_fraction=(0.25, 0.5)), 4000, rng)
    soft = (grids == 0).mean(axis=(1, 2))
    assert soft.min() >= 0.25 and soft.max() <= 0.5 and abs(soft.mean() - 0.375) < 0.005
    hier = random_grids(HierarchicalSpace(), 4000, rng)
    assert chisquare(np.bincount(hier.ravel(), minlength=3)).pvalue > 1e-3


# ---------------------------------------------------------------------------------------------- strategy
@pytest.mark.parametrize(
    ("settings", "message"),
    [({"population": 3}, "population must be an integer in 4..100000"),
     ({"elites": 60}, "elites must be an integer in 0..59"),
     ({"crossover_rate": 1.5}, "crossover_rate must be a probability in"),
     ({"niche_radius": -1}, "niche_radius must be a finite number >= 0"),
     ({"trust_radius": float("inf")}, "trust_radius must be a finite number >= 0"),
     ({"trust_anchors": 0}, "trust_anchors must be an integer >= 1"),
     ({"model": "cnn-classifier"}, "model must be 'cnn' or 'linear'"),
     ({"model": "forest"}, "unknown surrogate model 'forest'"),
     ({"kappa": 1.0, "members": 1}, "kappa > 0 explores by ensemble spread: it needs members >= 2"),
     ({"targets": "log"}, "targets must be 'rank' or 'value'"),
     ({"symmetry": "mirror_rows"}, "symmetry 'mirror_rows' holds for checkerboards only"),
     ({"min_train": 1}, "min_train must be an integer >= 2"),
     ({"generation": 5}, r"unknown setting\(s\) \['generation'\] of the genetic strategy"),
     ({"population": float("nan")}, "population must be an integer in 4..100000, got nan")],
)
def test_bad_settings_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_strategy("genetic", HierarchicalSpace(), 0, {"population": 60, **settings})


def test_the_smallest_population_keeps_one_individual_free_of_elitism() -> None:
    """population=4, the least the setting allows, was refused for the default elites=4, a setting never given."""
    assert make_strategy("genetic", HierarchicalSpace(), 0, {"population": 4}).elites == 3
    assert make_strategy("genetic", HierarchicalSpace(), 0, {"population": 60}).elites == 4


def test_spinodoids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the genetic strategy searches checkerboard, hierarchical designs"):
        Campaign.create(Store(tmp_path), "s", {**FAST, "space": "spinodoid", "evaluator": None,
                                               "objective": {"kind": "metric", "metrics": ["E1"]}})


#: A known optimum: the hierarchical design that matches this coarse grid in all 16 blocks.
TARGET = np.random.default_rng(8).integers(0, 3, (4, 4))


def _known_truth(grids: np.ndarray) -> np.ndarray:
    """Blocks that match :data:`TARGET`, values (n, 1) to maximise (16 at the optimum)."""
    return np.count_nonzero(grids == TARGET, axis=(1, 2))[:, None].astype(float)


def drive(strategy: Strategy, batches: int, n: int = 8) -> tuple[list[list[str]], float]:
    """Ask and tell ``batches`` batches on the known truth: the hashes asked and the best value found."""
    asked, best = [], -np.inf
    for _ in range(batches):
        designs = strategy.ask(n)
        asked.append([d.content_hash() for d in designs])
        values = _known_truth(np.stack([strategy.space.to_grid(d) for d in designs]))
        strategy.tell(designs, values)
        best = max(best, float(values.max()))
    return asked, best


def test_same_seed_same_proposals_and_the_first_batch_is_the_random_baseline_s() -> None:
    first = drive(GeneticSearch(HierarchicalSpace(), 11, **QUICK), 3)[0]
    assert first == drive(GeneticSearch(HierarchicalSpace(), 11, **QUICK), 3)[0]
    assert first != drive(GeneticSearch(HierarchicalSpace(), 12, **QUICK), 3)[0]
    baseline = make_strategy("random", HierarchicalSpace(), 11)
    assert first[0] == [d.content_hash() for d in baseline.ask(8)]  # shared initial training set
    assert len({h for batch in first for h in batch}) == 24  # never a design twice


def test_proposals_are_distinct_unlabelled_and_min_distance_apart() -> None:
    strategy = GeneticSearch(HierarchicalSpace(), 1, min_distance=3, **QUICK)
    drive(strategy, 2)
    before = set(strategy.seen)
    designs = strategy.ask(8)
    grids = np.stack([strategy.space.to_grid(d) for d in designs])
    distances = hamming_matrix(grids)[np.triu_indices(8, 1)]
    assert distances.min() >= 3 and strategy.history[-1]["kind"] == "model"
    assert not before & {d.content_hash() for d in designs}


def test_the_loop_climbs_a_known_truth_objective_faster_than_random() -> None:
    """48 calls in batches of 8, seeds 0–2. Measured: best 16, 15, 14 of 16 blocks; random search 11, 10, 9."""
    finals: dict[str, list[float]] = {"loop": [], "random": []}
    for seed in range(3):
        for name, strategy in (("loop", GeneticSearch(HierarchicalSpace(), seed, min_train=8, **QUICK)),
                               ("random", make_strategy("random", HierarchicalSpace(), seed))):
            finals[name].append(drive(strategy, 6)[1])
    assert np.median(finals["loop"]) >= np.median(finals["random"]) + 3


def test_proposals_stay_inside_the_trust_region_of_the_best_labels() -> None:
    strategy = GeneticSearch(GridSpace(4, 4), 4, trust_radius=5, trust_anchors=3, min_train=8, **QUICK)
    drive(strategy, 1)
    grids, values = strategy.training_data()
    anchors = grids[np.argsort(-values[:, 0], kind="stable")[:3]]
    designs = strategy.ask(8)
    proposed = np.stack([strategy.space.to_grid(d) for d in designs])
    nearest = np.count_nonzero(proposed[:, None] != anchors[None], axis=(2, 3)).min(axis=1)
    assert strategy.history[-1]["kind"] == "model" and 1 <= nearest.min() and nearest.max() <= 5


def test_pareto_objectives_rank_the_population_by_nsga2_fitness() -> None:
    strategy = GeneticSearch(HierarchicalSpace(), 0, **QUICK)
    rng = np.random.default_rng(0)
    mean, spread = rng.random((40, 2)), np.zeros((40, 2))
    grids = random_grids(strategy.space, 40, rng)
    np.testing.assert_array_equal(strategy._fitness(mean, spread, grids), pareto_fitness(mean))


# ---------------------------------------------------------------------------------------------- campaigns
def _history(campaign: Campaign) -> list[tuple[int, str, list[float]]]:
    return [(r.candidate.id, r.candidate.design.content_hash(), [float(v) for v in r.values])
            for r in campaign.results()]


REPLAY = """
import sys
from concurrent.futures import ThreadPoolExecutor
from engine.campaigns.campaign import Campaign
from engine.store import Store
campaign = Campaign.open(Store(sys.argv[1], create=False), sys.argv[2])
with ThreadPoolExecutor(2) as executor:
    print(campaign.run(executor))
"""


def test_a_campaign_replays_and_resumes_in_a_new_process_to_the_uninterrupted_result(tmp_path: Path) -> None:
    config = {**FAST, "budget": 30, "space": "checkerboard", "strategy_settings": {**QUICK, "symmetry": "mirror_rows"}}
    (tmp_path / "whole").mkdir()
    (tmp_path / "parts").mkdir()
    whole = Campaign.create(Store(tmp_path / "whole"), "c", config)
    with ThreadPoolExecutor(2) as executor:
        assert whole.run(executor) == "finished"
    again = Campaign.open(whole.store, "c")
    again._strategy()  # replayed in this process: it proposes the stored designs again, or raises
    assert _history(again) == _history(whole)

    store = Store(tmp_path / "parts")
    part = Campaign.create(store, "c", config)
    with ThreadPoolExecutor(2) as executor:
        assert part.run(executor, should_stop=lambda: part.spent >= 20) == "paused"
    assert part.spent == 20
    done = subprocess.run([sys.executable, "-c", REPLAY, str(tmp_path / "parts"), "c"], capture_output=True,
                          text=True, timeout=600)
    assert done.stdout.strip() == "finished", done.stderr
    assert _history(Campaign.open(store, "c")) == _history(whole)


def test_a_pareto_campaign_runs_and_keeps_a_front(tmp_path: Path) -> None:
    config = {**FAST, "budget": 30, "objective": {"kind": "pareto",
                                                  "metrics": ["stiffness", "energy_release_rate_per_stress_squared"]}}
    campaign = Campaign.create(Store(tmp_path), "p", config)
    with ThreadPoolExecutor(2) as executor:
        campaign.run(executor)
    assert campaign.spent == 30 and len({r.candidate.design.content_hash() for r in campaign.results()}) == 30
    front_ids = {r.candidate.id for r in campaign.pareto_front()}
    front = np.array([r.values for r in campaign.pareto_front()])
    rest = np.array([r.values for r in campaign.results() if r.candidate.id not in front_ids and np.isfinite(r.values).all()])
    # stiffness and G/σ² mostly agree on these plates: the front is small, but it is the whole front
    assert len(front) >= 1 and not any(((front >= f).all(1) & (front > f).any(1)).any() for f in front)
    assert all(((front >= f).all(1) & (front > f).any(1)).any() for f in rest)


def _median_best(store: Store, strategy: str, space: str, settings: dict, seeds: range, budget: int = 40) -> float:
    finals = []
    with ThreadPoolExecutor(2) as executor:
        for seed in seeds:
            campaign = Campaign.create(store, f"{strategy}-{space}-{seed}", {
                **FAST, "budget": budget, "strategy": strategy, "space": space, "seed": seed,
                "strategy_settings": settings if strategy != "random" else {}})
            campaign.run(executor)
            finals.append(campaign.best_so_far()[-1])
    return float(np.median(finals))


@pytest.mark.slow
@pytest.mark.parametrize("space", ["hierarchical", "checkerboard"])
def test_the_genetic_loop_beats_random_search_at_equal_budget(tmp_path: Path, space: str) -> None:
    """Fast-fidelity G/σ² (minimised), 80 solver calls in batches of 10, median over 5 seeds.

    Measured (pytest -s, solver version 7): hierarchical −5.2e-4 vs random −9.0e-4 mm/MPa;
    checkerboard −1.5e-4 vs −3.3e-4 (mm/MPa, values to maximise; the loop wins on every seed).
    With 40 calls the checkerboard loop won on 3 of 5 seeds only (median −3.3e-4 vs −3.5e-4); with
    the clamped grips of solver version 6 it had −1.9e-4 vs −2.8e-4 after 40.
    """
    store = Store(tmp_path)
    loop = _median_best(store, "genetic", space, QUICK, range(5), budget=80)
    random = _median_best(store, "random", space, {}, range(5), budget=80)
    print(f"\n{space}: genetic {loop:.3e}, random {random:.3e} (G/σ², mm/MPa, negated)")
    assert loop > random * 0.8  # at least 20 % lower G/σ² than random search (values are negative)


def test_the_surrogate_predicted_each_batch_before_it_learnt_the_labels(tmp_path: Path) -> None:
    """Predictions kept at ask time against the solver's labels told afterwards (Spearman by hand)."""
    from scipy.stats import spearmanr

    config = {**FAST, "budget": 30, "strategy_settings": {**QUICK, "targets": "value"}}
    campaign = Campaign.create(Store(tmp_path), "s", config)
    with ThreadPoolExecutor(2) as executor:
        assert campaign.run(executor) == "finished"
    rows = campaign.surrogate_accuracy()
    assert [row["solver calls"] for row in rows] == [20.0, 30.0]  # the first batch is random: nothing predicted
    predicted = campaign._parts.strategy.predictions
    last = [r for r in campaign.results() if r.candidate.batch == 2]
    p = [predicted[r.candidate.design.content_hash()] for r in last]
    v = [r.values[0] for r in last]
    assert rows[-1]["Spearman"] == pytest.approx(spearmanr(p, v).statistic)
    assert rows[-1]["R²"] == pytest.approx(1 - np.sum((np.subtract(v, p)) ** 2) / np.sum((v - np.mean(v)) ** 2))
    # read from the store when reopened (no replay); a campaign of an older store, whose candidates carry
    # no predictions, replays its strategy once for them and keeps them
    assert Campaign.open(campaign.store, "s").surrogate_accuracy() == rows
    with sqlite3.connect(campaign.store.path) as raw:
        raw.execute("UPDATE campaign_candidates SET prediction = NULL")
        raw.execute("UPDATE campaigns SET predictions_kept = 0")
    assert campaign.store.predictions(campaign.id) is None
    assert Campaign.open(campaign.store, "s").surrogate_accuracy() == rows
    assert len(campaign.store.predictions(campaign.id)) == 20  # the two batches the surrogate picked
    # How well it ranks its own picks is not asserted: they are its most optimistic candidates, in a
    # narrow range of values, and over seeds 0–4 the Spearman of the 20 picks after the first batch
    # was 0.02–0.75 (solver version 7; with the clamped grips of version 6 seed 0 gave 0.85 after 20
    # labels, seeds 1 and 2 −0.61 and 0.13). The surrogates' accuracy is measured on held-out
    # designs instead (tests/test_engine_surrogates*.py, tests/benchmarks/bench_surrogates.py).
