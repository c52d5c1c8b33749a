"""Multi-fidelity regression (Kennedy & O'Hagan 2000 with a cheap surrogate as regressors) on
synthetic targets with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from engine.surrogates import GridCNNRegressor, GridLinearRegressor, SurrogateEnsemble
from engine.surrogates.multifidelity import MultiFidelityRegressor


class _Exact:
    """A 'cheap model' that knows the low-fidelity outputs: two soft-cell counts."""

    def predict(self, grids: np.ndarray) -> np.ndarray:
        soft = np.asarray(grids) == 0
        return np.stack([soft[:, :4].sum((1, 2)), soft[:, 4:].sum((1, 2))], axis=1).astype(float)


class _Zero:
    """A discrepancy model that predicts 0 (with a unit spread): the linear part alone."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> "_Zero":
        self.residual = np.asarray(y)
        return self

    def predict(self, X: np.ndarray, return_std: bool = False):  # noqa: ANN201
        zero = np.zeros((len(X), *self.residual.shape[1:]))
        return (zero, np.ones_like(zero)) if return_std else zero


def test_the_scaled_cheap_outputs_are_recovered_exactly() -> None:
    grids = np.random.default_rng(0).integers(0, 2, (40, 8, 8))
    z = _Exact().predict(grids)
    y = np.stack([0.3 + 1.5 * z[:, 0] - 0.5 * z[:, 1], 2.0 * z[:, 1]], axis=1)  # (n, 2): two targets
    model = MultiFidelityRegressor(_Exact(), _Zero()).fit(grids, y)
    np.testing.assert_allclose(model.coef_, [[0.3, 0.0], [1.5, 0.0], [-0.5, 2.0]], atol=1e-9)
    np.testing.assert_allclose(model.discrepancy.residual, 0.0, atol=1e-9)
    fresh = np.random.default_rng(1).integers(0, 2, (5, 8, 8))
    mean, spread = model.predict(fresh, return_std=True)
    np.testing.assert_allclose(mean[:, 1], 2.0 * _Exact().predict(fresh)[:, 1], atol=1e-9)
    assert spread.shape == (5, 2) and model.rank_scores(fresh).shape == (5,)
    one = MultiFidelityRegressor(_Exact(), _Zero()).fit(grids, y[:, 0])  # a 1-D target stays 1-D
    assert one.predict(fresh).shape == (5,)
    with pytest.raises(ValueError, match="X has 40 designs but y has 39 rows"):
        MultiFidelityRegressor(_Exact(), _Zero()).fit(grids, y[:-1])


def test_a_cheap_cnn_lets_few_expensive_labels_rank_a_nonlinear_target() -> None:
    """Known truth: both fidelities weigh horizontal soft–soft pairs (a nonlinear feature) near the
    crack plane, the expensive one with weights up to 30 % different plus a soft-count term; 30
    expensive labels do not teach a CNN the pairs, 600 cheap ones do."""
    rng = np.random.default_rng(0)
    grids = rng.integers(0, 2, (1000, 8, 8))
    pairs = ((grids[:, :, :-1] == 0) & (grids[:, :, 1:] == 0)).astype(float)  # (n, 8, 7)
    w_low = np.exp(-np.abs(np.arange(8) - 3.5))[:, None] * np.exp(-np.arange(7) / 3)[None, :]
    w_high = w_low * (1 + 0.3 * np.cos(np.arange(7)))[None, :]
    y_low = (pairs * w_low).sum((1, 2))
    y_high = 2.0 * (pairs * w_high).sum((1, 2)) + 0.05 * (grids[:, :, 0] == 0).sum(1) + 0.02 * rng.standard_normal(1000)
    cheap = GridCNNRegressor(random_state=1, device="cpu", symmetry=None).fit(grids[:600], y_low[:600])
    few, test = slice(600, 630), slice(700, None)
    rho = {}
    for name, make in (("alone", lambda s: GridCNNRegressor(random_state=s, device="cpu", symmetry=None)),
                       ("with cheap", lambda s: MultiFidelityRegressor(
                           cheap, GridLinearRegressor(random_state=s, device="cpu", symmetry=None))),
                       ("ensemble", lambda s: MultiFidelityRegressor(cheap, SurrogateEnsemble(
                           GridLinearRegressor(device="cpu", symmetry=None), n_members=2, random_state=s)))):
        rho[name] = float(np.median([spearmanr(make(s).fit(grids[few], y_high[few]).predict(grids[test]),
                                               y_high[test]).statistic for s in range(3)]))
    print(f"\nheld-out Spearman from 30 expensive labels: {rho}")
    # measured: alone 0.467, with cheap 0.966, ensemble 0.968
    assert rho["with cheap"] > 0.85 and rho["with cheap"] > rho["alone"] + 0.2, rho
    assert rho["ensemble"] > 0.85, rho
