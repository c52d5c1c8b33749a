"""torch CSR products against scipy, and the thread-setting context."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from fem.spmm import SparseOperator, torch_threads


@pytest.mark.parametrize("fmt", ["csr", "bsr", "coo"])
def test_products_match_scipy(fmt):
    rng = np.random.default_rng(3)
    A = sp.random(300, 300, density=0.05, random_state=4, format="csr") + sp.eye(300)
    A = A.asformat(fmt) if fmt != "bsr" else sp.bsr_matrix(A.toarray(), blocksize=(3, 3))
    op = SparseOperator(A)
    X = rng.standard_normal((300, 6))
    np.testing.assert_allclose(op @ X, A @ X, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(op @ X[:, 2], A @ X[:, 2], rtol=1e-13, atol=1e-13)
    B = rng.standard_normal((300, 6))
    r = op.residual(torch.from_numpy(B), torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(r, B - A @ X, rtol=1e-12, atol=1e-12)
    assert abs(op.to_scipy() - A.tocsr()).max() == 0.0


def test_torch_threads_restores_setting():
    """Starts from 3 threads, not the suite's 1, so that both the setting and the restoring show."""
    outer = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        before = torch.get_num_threads()
        assert before == 3
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == before
        with torch_threads(2):
            with torch_threads(1):
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == before
        with pytest.raises(RuntimeError), torch_threads(1):
            raise RuntimeError("solver failed")
        assert torch.get_num_threads() == before  # restored on errors too
        with torch_threads(None):
            assert torch.get_num_threads() == before
        with pytest.raises(ValueError, match="threads"):
            with torch_threads(0):
                pass
    finally:
        torch.set_num_threads(outer)
