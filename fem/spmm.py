"""Sparse matrix × multi-vector products through torch's CSR kernel.

scipy's ``csr_matvecs`` loops over the right-hand sides one scalar at a time on one core;
torch's CPU CSR kernel (MKL where the wheel has it) vectorises over them and uses the cores
torch is allowed (``torch.set_num_threads``). Measured on the 64³ spinodoid stiffness
(476k dofs, 32M non-zeros, six columns, one core): 0.04 s per product against 0.13 s for
scipy, same double-precision result. The wrapper shares memory with the scipy arrays
(no copy for float64 data and int32/int64 indices).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["SparseOperator", "torch_threads"]


class SparseOperator:
    """Read-only sparse matrix for products with dense (n,) or (n, m) arrays.

    Parameters
    ----------
    A : scipy.sparse matrix
        Any format (converted to CSR, float64).
    """

    def __init__(self, A: sp.spmatrix) -> None:
        A = sp.csr_matrix(A, dtype=np.float64)
        A.sort_indices()
        self.shape: tuple[int, int] = A.shape
        self.nnz: int = int(A.nnz)
        idx_dtype = A.indices.dtype if A.indices.dtype == A.indptr.dtype else np.int64
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            self._t = torch.sparse_csr_tensor(
                torch.from_numpy(np.ascontiguousarray(A.indptr, dtype=idx_dtype)),
                torch.from_numpy(np.ascontiguousarray(A.indices, dtype=idx_dtype)),
                torch.from_numpy(np.ascontiguousarray(A.data)),
                size=A.shape, check_invariants=False,
            )

    def tmatmul(self, x: torch.Tensor) -> torch.Tensor:
        """Product with a float64 tensor of shape (n, m)."""
        return self._t @ x

    def residual(self, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """b − A x for float64 tensors of shape (n, m), in one fused product (new tensor)."""
        return torch.addmm(b, self._t, x, beta=1.0, alpha=-1.0)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        """Product with a float64 array of shape (n,) or (n, m)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim == 1:
            return (self._t @ torch.from_numpy(x)[:, None]).numpy()[:, 0]
        return (self._t @ torch.from_numpy(x)).numpy()

    def to_scipy(self) -> sp.csr_matrix:
        """The matrix as scipy CSR (shares memory)."""
        return sp.csr_matrix((self._t.values().numpy(), self._t.col_indices().numpy(),
                              self._t.crow_indices().numpy()), shape=self.shape)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, restoring the previous setting.

    ``None`` leaves torch's setting alone. One thread is the robust choice on a shared machine
    or inside a worker pool: on the 2-core test machine under load, two OpenMP threads made a
    32³ solve 4× slower than one (their barriers wait for a core held by another process).
    """
    if n is None:
        yield
        return
    if int(n) < 1:
        raise ValueError(f"threads must be a positive integer or None, got {n!r}")
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)
