"""Rectilinear bilinear-quad (Q1) meshes with an optional slit crack, assembled fast.

All elements of a rectilinear grid are axis-aligned rectangles, so the bilinear shape
function gradients at the 2×2 Gauss points are ``a_qi / dx`` and ``b_qi / dy``: every element
matrix is a closed-form function of ``(dx, dy)`` and the material. Matrices are built for the
distinct element types only and scattered into a CSR pattern that is computed once
(``np.bincount`` over a precomputed position map), which is far faster than generic quadrature.

A horizontal slit crack at grid row ``jc`` from the left edge to grid column ``ic`` is made by
duplicating the nodes on that row left of the tip: elements above the crack use the copies.
Lengths are in the units of the coordinates (mm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["QuadGrid", "interface_axis", "graded_axis", "GAUSS_N"]

_G = 1.0 / np.sqrt(3.0)
_XI = np.array([-1.0, 1.0, 1.0, -1.0])
_ETA = np.array([-1.0, -1.0, 1.0, 1.0])
_QXI = np.array([-_G, _G, _G, -_G])
_QETA = np.array([-_G, -_G, _G, _G])
#: Shape function values at the 4 Gauss points, shape (4 points, 4 nodes).
GAUSS_N = 0.25 * (1 + _QXI[:, None] * _XI[None]) * (1 + _QETA[:, None] * _ETA[None])
# d N / d xi and d N / d eta at the Gauss points; physical gradients are 2/dx, 2/dy times these
_DNX = 0.25 * _XI[None] * (1 + _QETA[:, None] * _ETA[None])
_DNY = 0.25 * _ETA[None] * (1 + _QXI[:, None] * _XI[None])


def graded_axis(
    length: float, h_fine: float, h_coarse: float, fine: tuple[float, float], required: tuple[float, ...] = ()
) -> np.ndarray:
    """Node coordinates on ``[0, length]`` with spacing ``h_fine`` inside ``fine``.

    Outside the fine interval the spacing grows geometrically (ratio 1.3) to ``h_coarse``.

    Parameters
    ----------
    length : float
        Axis length (mm).
    h_fine, h_coarse : float
        Element sizes (mm) inside and far from the fine interval.
    fine : tuple of float
        ``(lo, hi)`` interval (mm) meshed with ``h_fine``.
    required : tuple of float
        Coordinates that must be nodes (e.g. a crack tip); snapped into the fine zone.

    Returns
    -------
    numpy.ndarray
        Increasing node coordinates starting at 0 and ending at ``length``.
    """
    lo, hi = max(0.0, fine[0]), min(length, fine[1])
    if not (0 < h_fine <= h_coarse) or hi <= lo:
        raise ValueError("graded_axis needs 0 < h_fine <= h_coarse and a non-empty fine interval")
    pts = set(np.round(np.arange(lo, hi + 1e-12, h_fine), 12).tolist()) | {lo, hi}
    for side, start, stop in ((-1, lo, 0.0), (1, hi, length)):
        x, h = start, h_fine
        while (stop - x) * side > 1e-12:
            h = min(h * 1.3, h_coarse)
            x = x + side * h
            if (stop - x) * side < 0.5 * h:
                x = stop
            pts.add(round(x, 12))
    for r in required:
        pts.add(round(float(r), 12))
    xs = np.array(sorted(pts))
    keep = np.concatenate([[True], np.diff(xs) > 1e-9])
    return xs[keep]


def interface_axis(edges: np.ndarray, h: float, cut: float, length: float = 1.0) -> np.ndarray:
    """Node coordinates on ``[0, length]`` through the interfaces ``edges``, elements at most ``h``.

    The interfaces and ``cut`` (e.g. a crack tip) are nodes, and each interval between two of
    them is divided into the fewest equal elements no longer than ``h``; so the mesh depends on
    a design only through where its material changes, and a plate gets the same mesh on every
    grid it is drawn on. A ``cut`` closer than ``h/4`` to an interface is moved onto it (no
    sliver elements).

    Parameters
    ----------
    edges : numpy.ndarray
        Interior coordinates (mm) where the material changes, in ``(0, length)``; may be empty.
    h : float
        Largest element size (mm), ``0 < h``.
    cut : float
        Coordinate that must be a node (mm), in ``(0, length)``.
    length : float
        Axis length (mm).

    Returns
    -------
    numpy.ndarray
        Increasing node coordinates from 0 to ``length``.

    Raises
    ------
    ValueError
        ``h <= 0``, ``cut`` or an edge outside ``(0, length)``.
    """
    inner = np.unique(np.asarray(edges, float))
    if not 0 < h or not 0 < cut < length or np.any((inner <= 0) | (inner >= length)):
        raise ValueError("interface_axis needs h > 0 and the cut and the edges inside (0, length)")
    bounds = np.concatenate([[0.0], inner, [length]])
    near = int(np.argmin(np.abs(bounds - cut)))
    cuts = bounds if abs(bounds[near] - cut) < 0.25 * h else np.sort(np.append(bounds, cut))
    pieces = [np.array([0.0])]
    for a, b in zip(cuts[:-1], cuts[1:]):
        n = max(1, math.ceil((b - a) / h - 1e-9))
        pieces.append(a + (b - a) * np.arange(1, n + 1) / n)
    xs = np.concatenate(pieces)
    xs[-1] = length
    return xs


@dataclass(frozen=True, eq=False)
class QuadGrid:
    """Rectilinear Q1 mesh with an optional horizontal slit crack.

    Parameters
    ----------
    xs, ys : numpy.ndarray
        Increasing node coordinates along x and y (mm).
    crack_row : int or None
        Grid row ``jc`` (``ys[jc]`` is the crack line); ``None`` for no crack.
    crack_tip : int
        Grid column of the crack tip; nodes of row ``jc`` with column ``< crack_tip`` are split.
    """

    xs: np.ndarray
    ys: np.ndarray
    crack_row: int | None = None
    crack_tip: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        xs = np.asarray(self.xs, float)
        ys = np.asarray(self.ys, float)
        if xs.ndim != 1 or ys.ndim != 1 or xs.size < 2 or ys.size < 2:
            raise ValueError("xs and ys must be 1D arrays with at least 2 coordinates")
        if np.any(np.diff(xs) <= 0) or np.any(np.diff(ys) <= 0):
            raise ValueError("xs and ys must be strictly increasing")
        object.__setattr__(self, "xs", xs)
        object.__setattr__(self, "ys", ys)
        nx, ny = xs.size - 1, ys.size - 1
        if self.crack_row is not None:
            if not 0 < self.crack_row < ny:
                raise ValueError(f"crack_row must be an interior row in 1..{ny - 1}")
            if not 0 < self.crack_tip < nx:
                raise ValueError(f"crack_tip must be an interior column in 1..{nx - 1}")
        ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
        ix, iy = ix.ravel(), iy.ravel()
        n = lambda i, j: j * (nx + 1) + i  # noqa: E731
        conn = np.stack([n(ix, iy), n(ix + 1, iy), n(ix + 1, iy + 1), n(ix, iy + 1)], axis=1)
        nnode = (nx + 1) * (ny + 1)
        X, Y = np.meshgrid(xs, ys)
        coords = np.stack([X.ravel(), Y.ravel()], axis=1)
        if self.crack_row is not None:
            jc, it = self.crack_row, self.crack_tip
            split = n(np.arange(it), jc)
            new = nnode + np.arange(it)
            remap = np.arange(nnode)
            remap[split] = new
            above = iy == jc
            conn[above, 0] = remap[conn[above, 0]]
            conn[above, 1] = remap[conn[above, 1]]
            coords = np.vstack([coords, coords[split]])
            nnode += it
        object.__setattr__(self, "conn", conn)
        object.__setattr__(self, "coords", coords)
        object.__setattr__(self, "nnode", nnode)
        object.__setattr__(self, "ix", ix)
        object.__setattr__(self, "iy", iy)
        object.__setattr__(self, "dx", np.diff(xs)[ix])
        object.__setattr__(self, "dy", np.diff(ys)[iy])

    # -- geometry -----------------------------------------------------------------------
    @property
    def nelem(self) -> int:
        """Number of elements."""
        return self.conn.shape[0]

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)`` elements per column and row."""
        return self.ys.size - 1, self.xs.size - 1

    def centres(self) -> np.ndarray:
        """Element centres, shape (nelem, 2) (mm)."""
        return np.stack([self.xs[self.ix] + self.dx / 2, self.ys[self.iy] + self.dy / 2], axis=1)

    def edge_nodes(self, y: float) -> tuple[np.ndarray, np.ndarray]:
        """Nodes on the horizontal edge at height ``y`` (mm), sorted by x, and their tributary
        lengths along it (mm: half of each neighbouring element edge)."""
        nodes = np.flatnonzero(np.isclose(self.coords[:, 1], y))
        nodes = nodes[np.argsort(self.coords[nodes, 0])]
        dx = np.diff(self.coords[nodes, 0])
        return nodes, np.concatenate([dx, [0.0]]) / 2 + np.concatenate([[0.0], dx]) / 2

    def detj(self) -> np.ndarray:
        """Jacobian determinant per element, ``dx dy / 4`` (mm²)."""
        return self.dx * self.dy / 4.0

    # -- gradients ----------------------------------------------------------------------
    def grads(self) -> tuple[np.ndarray, np.ndarray]:
        """Shape function gradients at the Gauss points, each of shape (nelem, 4, 4) (1/mm)."""
        return (2.0 / self.dx)[:, None, None] * _DNX[None], (2.0 / self.dy)[:, None, None] * _DNY[None]

    def bmatrix(self) -> np.ndarray:
        """Strain–displacement matrices, shape (nelem, 4 points, 3, 8) (Voigt, engineering shear)."""
        gx, gy = self.grads()
        B = np.zeros((self.nelem, 4, 3, 8))
        B[:, :, 0, 0::2] = gx
        B[:, :, 1, 1::2] = gy
        B[:, :, 2, 0::2] = gy
        B[:, :, 2, 1::2] = gx
        return B

    def edofs(self) -> np.ndarray:
        """Element DOFs (ux, uy interleaved per node), shape (nelem, 8)."""
        return np.stack([2 * self.conn, 2 * self.conn + 1], axis=2).reshape(-1, 8)

    # -- assembly patterns --------------------------------------------------------------
    def pattern(self, vector: bool) -> tuple[sp.csr_matrix, np.ndarray]:
        """CSR sparsity pattern and the map from element-matrix entries to ``data`` slots.

        Parameters
        ----------
        vector : bool
            ``True`` for the 2-DOF-per-node displacement field, ``False`` for a scalar field.

        Returns
        -------
        (csr_matrix, numpy.ndarray)
            Pattern matrix (data = slot index) and ``pos`` of shape (nelem * k * k,), so that
            ``np.bincount(pos, weights=Ke.ravel(), minlength=nnz)`` is the assembled ``data``.
        """
        key = ("pattern", vector)
        if key not in self._cache:
            self._cache[key] = self._vector_pattern() if vector else self._scalar_pattern()
        return self._cache[key]

    def _scalar_pattern(self) -> tuple[sp.csr_matrix, np.ndarray]:
        n, (ne, k) = self.nnode, self.conn.shape
        # node pairs that share an element: the pattern of (incidence)ᵀ (incidence)
        inc = sp.csr_matrix((np.ones(self.conn.size), self.conn.ravel(), np.arange(0, self.conn.size + 1, k)), shape=(ne, n))
        P = (inc.T @ inc).tocsr()
        P.sort_indices()
        # CSR order is (row, column) order: an entry's slot is its rank among the sorted keys
        keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(P.indptr)) * n + P.indices
        conn = self.conn.astype(np.int64)
        pos = np.searchsorted(keys, (conn[:, :, None] * n + conn[:, None, :]).ravel())
        A = sp.csr_matrix((np.arange(P.nnz, dtype=float), P.indices, P.indptr), shape=(n, n))
        return A, pos

    def _vector_pattern(self) -> tuple[sp.csr_matrix, np.ndarray]:
        # expand the node pattern: node pair (i, j) at position s of row i becomes the 2x2 block
        # (2i+a, 2j+b) at slot indptr[2i] + 2 a deg(i) + 2 (s - nptr[i]) + b
        N, npos = self._scalar_pattern()
        nptr, nind = N.indptr, N.indices
        deg = np.diff(nptr)
        n = 2 * self.nnode
        indptr = np.empty(n + 1, dtype=np.int64)
        indptr[0] = 0
        indptr[1::2] = 4 * nptr[:-1] + 2 * deg
        indptr[2::2] = 4 * nptr[1:]
        row_node = np.repeat(np.arange(self.nnode), deg)
        within = np.arange(nind.size) - nptr[row_node]
        indices = np.empty(4 * nind.size, dtype=np.int32)
        for a in range(2):
            for b in range(2):
                indices[indptr[2 * row_node + a] + 2 * within + b] = 2 * nind + b
        A = sp.csr_matrix((np.arange(indices.size, dtype=float), indices, indptr), shape=(n, n))
        # element entry (I, J) of the 8x8 matrix: nodes I//2, J//2 and components a = I%2, b = J%2
        kq = self.conn.shape[1]
        s_node = npos.reshape(-1, kq, kq)  # node-pair slot per element
        i_node = np.broadcast_to(self.conn[:, :, None], s_node.shape)
        first = 4 * nptr[i_node] + 2 * (s_node - nptr[i_node])  # slot of (2i, 2j)
        row_step = 2 * deg[i_node]  # from row 2i to row 2i+1
        slot = first[:, :, None, :, None] + np.arange(2)[:, None, None] * row_step[:, :, None, :, None] + np.arange(2)
        return A, slot.reshape(-1).astype(np.int64)

    def assemble(self, Ke: np.ndarray, vector: bool) -> sp.csr_matrix:
        """Assemble element matrices ``Ke`` of shape (nelem, k, k) into a CSR matrix."""
        A, pos = self.pattern(vector)
        data = np.bincount(pos, weights=Ke.ravel(), minlength=A.nnz)
        return sp.csr_matrix((data, A.indices, A.indptr), shape=A.shape)

    def assemble_vector(self, fe: np.ndarray, vector: bool) -> np.ndarray:
        """Assemble element vectors ``fe`` of shape (nelem, k)."""
        dofs = self.edofs() if vector else self.conn
        n = self.nnode * (2 if vector else 1)
        return np.bincount(dofs.ravel(), weights=fe.ravel(), minlength=n)
