"""Batched CPU inference: worker threads give the plain single-pass forward, in order, and leave torch's thread setting alone."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from engine.surrogates import GridCNNClassifier, GridCNNRegressor, check_grids
from engine.surrogates.batching import batched_inference
from engine.surrogates.grid import CELLS_PER_BATCH
from fem.spmm import torch_threads


def _one_hot(grids: np.ndarray, n_types: int) -> torch.Tensor:
    """One-hot channels (n, n_types, rows, columns), built with numpy independently of the model."""
    return torch.as_tensor(np.eye(n_types, dtype=np.float32)[grids].transpose(0, 3, 1, 2).copy())


@pytest.fixture(scope="module")
def fitted() -> tuple[np.ndarray, GridCNNRegressor]:
    rng = np.random.default_rng(3)
    train = rng.integers(0, 3, (120, 8, 8))
    y = (train == 2).sum(axis=(1, 2)) + 0.1 * rng.standard_normal(120)
    model = GridCNNRegressor(n_types=3, max_epochs=3, random_state=0, device="cpu").fit(train, y)
    return rng.integers(0, 3, (2500, 8, 8)), model


def test_order_is_kept_with_uneven_batches_and_more_workers_than_cores():
    x = torch.arange(23, dtype=torch.float32)
    out = batched_inference(lambda b: 2 * b, x, batch_size=3, workers=5)
    assert out.dtype == torch.float64
    np.testing.assert_array_equal(out.numpy(), 2 * np.arange(23))


def test_workers_match_the_plain_module_forward_on_all_designs(fitted):
    grids, model = fitted
    with torch.inference_mode():
        plain = model.module_(_one_hot(grids, 3)).double().numpy()  # one pass, no batching, no threads
    for workers in (1, 2, 3):
        out = batched_inference(model._logits, model._grid_tensor(grids), batch_size=256, workers=workers).numpy()
        np.testing.assert_allclose(out, plain, rtol=1e-5, atol=1e-6)
    expected = plain[:, 0] * model.y_std_[0] + model.y_mean_[0]
    np.testing.assert_allclose(model.predict(grids), expected, rtol=1e-5, atol=1e-6)


def test_auto_batch_size_from_grid_cells(fitted):
    grids, model = fitted
    assert model.predict_batch_size is None
    assert model._predict_batch_size() == CELLS_PER_BATCH // 64
    tiny = copy.deepcopy(model)
    tiny.predict_batch_size = 7
    np.testing.assert_allclose(tiny.predict(grids), model.predict(grids), rtol=1e-5, atol=1e-6)


def test_thread_setting_restored_and_no_autograd():
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        lin = torch.nn.Linear(4, 2)
        out = batched_inference(lin, torch.randn(50, 4), batch_size=8)
        assert not out.requires_grad
        assert torch.get_num_threads() == 2
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)


def test_worker_errors_propagate_and_bad_batch_size_is_rejected():
    def boom(b: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("broken batch")

    with pytest.raises(RuntimeError, match="broken batch"):
        batched_inference(boom, torch.zeros(10, 2), batch_size=2, workers=2)
    with pytest.raises(ValueError, match="positive"):
        batched_inference(lambda b: b, torch.zeros(4), batch_size=0)


def test_integer_fast_path_of_check_grids_agrees_with_the_general_path():
    rng = np.random.default_rng(0)
    grids = rng.integers(0, 3, (20, 5, 4))
    for arr in (grids, grids.astype(np.uint8), grids[:, ::-1]):
        np.testing.assert_array_equal(check_grids(arr, 3), check_grids(arr.astype(float), 3))
    np.testing.assert_array_equal(check_grids(grids[0]), grids[:1])
    with pytest.raises(ValueError, match="unknown block type index 3; allowed 0..2"):
        check_grids(grids + 1, 3)
    with pytest.raises(ValueError, match="unknown block type index -1"):
        check_grids(grids - 1)
    with pytest.raises(ValueError, match="trained on 5x5"):
        check_grids(grids, 3, (5, 5))
    with pytest.raises(ValueError, match="n >= 1"):
        check_grids(np.zeros((0, 4, 4), dtype=int))


def test_classifier_ranking_equals_softmax_of_the_plain_forward():
    rng = np.random.default_rng(5)
    train = rng.integers(0, 2, (80, 8, 8))
    model = GridCNNClassifier(max_epochs=2, random_state=0, device="cpu").fit(train, np.arange(80) % 2)
    grids = rng.integers(0, 2, (3000, 8, 8))
    with torch.inference_mode():
        p = torch.softmax(model.module_(_one_hot(grids, 2)).double(), dim=1)[:, -1].numpy()
    old = torch.get_num_threads()
    torch.set_num_threads(2)  # the worker-thread path (default workers = torch threads)
    try:
        np.testing.assert_allclose(model.rank_scores(grids), p, rtol=1e-5, atol=1e-7)
    finally:
        torch.set_num_threads(old)
