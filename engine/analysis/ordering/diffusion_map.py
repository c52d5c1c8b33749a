"""Diffusion maps of particle environments (Coifman & Lafon 2006).

Coifman & Lafon, Appl. Comput. Harmon. Anal. 21, 5 (2006), §2–3; used for local structure by
Long & Ferguson, J. Phys. Chem. B 118, 4228 (2014) and Reinhart, Long, Howard, Ferguson &
Panagiotopoulos, Soft Matter 13, 4733 (2017). With descriptors x_i (standardised columns):

1. Gaussian kernel ``K_ij = exp(−|x_i − x_j|² / ε)``; the bandwidth ε defaults to the median
   of the squared distances between distinct particles (the median heuristic);
2. density normalisation ``K^(α)_ij = K_ij / (q_i q_j)^α`` with ``q_i = Σ_j K_ij`` — α = 1
   removes the sampling density, so the map follows the geometry of the descriptor manifold
   (Laplace–Beltrami limit, their Eq. (6)–(8));
3. Markov matrix ``P = D⁻¹ K^(α)``, ``D = diag(Σ_j K^(α)_ij)``; its eigenpairs come from the
   symmetric ``S = D^{−1/2} K^(α) D^{−1/2}`` (same eigenvalues; right eigenvectors
   ``ψ = D^{−1/2} v``), 1 = λ_0 > λ_1 ≥ λ_2 …;
4. diffusion coordinates ``Ψ_k(i) = λ_k^t ψ_k(i)``, k = 1 … ``n_coords`` (ψ_0 is constant
   and dropped); ψ normalised so that ``Σ_i D_ii ψ_k(i)² = Σ_i D_ii``.

For N ≤ ``dense_limit`` the full kernel is built; above, it keeps each particle's
``n_neighbors`` nearest descriptors (symmetrised), and ε is the median of those squared
distances. The leading eigenpairs come from ``scipy.linalg.eigh`` for N ≤ :data:`EIGH_LIMIT`
and from ``scipy.sparse.linalg.eigsh`` (ARPACK, on the dense or sparse matrix) above: measured
here for N = 4000, eigh took 20–40 s and eigsh 1 s, same eigenvalues. The sign of each
eigenvector is fixed so that its largest-magnitude entry is positive (eigenvectors have no sign
of their own).

Landmarks (Nyström extension). Above ``n_landmarks`` particles the map is built on a seeded
random subset of that many landmarks l_j and extended to every particle x by the Nyström
formula (Coifman & Lafon 2006b, "Geometric harmonics", ACHA 21, 31, §2.2; Bengio et al.,
NIPS 16 (2004), Eq. (5)): with the same ε, q and α as on the landmarks,
``k_j = exp(−|x − l_j|² / ε)``, ``k^(α)_j = k_j / (q(x) q_j)^α``, ``q(x) = Σ_j k_j``, and
``ψ_k(x) = λ_k⁻¹ Σ_j k^(α)_j ψ_k(l_j) / Σ_j k^(α)_j`` — one step of the Markov chain from x
into the landmarks, divided by the eigenvalue; at a landmark it returns the landmark's own
value exactly. Why: when the descriptors form a few tight, well separated clusters, the sparse
k-nearest-neighbour kernel falls apart into disconnected pieces, several eigenvalues sit at or
next to 1 and ARPACK converges slowly (measured on the q_1…q_8 of an fcc/hcp stacking: 10,800
particles 48 s, 21,168 particles over 4 min for the eigenpairs); the dense kernel on 4000
landmarks stays connected and is solved in seconds, and the extension costs O(N · n_landmarks).
Landmarks always use the dense kernel (``n_landmarks ≤ dense_limit``);
``n_landmarks=None`` embeds every particle (dense kernel up to ``dense_limit``, sparse above).

Labels: a :class:`.mixture_model.DescriptorGMM` on the diffusion coordinates (K by BIC unless
given), so the map classifies like the other unsupervised methods.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from scipy.spatial.distance import cdist, pdist, squareform
from sklearn.neighbors import NearestNeighbors

from .mixture_model import DescriptorGMM, check_descriptors

__all__ = ["DiffusionMap", "EIGH_LIMIT"]

#: Largest N whose eigenpairs come from dense ``scipy.linalg.eigh`` (above: ARPACK ``eigsh``).
EIGH_LIMIT = 500


class DiffusionMap:
    """Diffusion-map embedding of descriptors, with mixture labels (module notes).

    Parameters
    ----------
    n_coords : int, default 2
        Non-trivial diffusion coordinates kept.
    alpha : float, default 1.0
        Density normalisation exponent α in [0, 1].
    epsilon : float, optional
        Kernel bandwidth ε (standardised descriptor units²); default: the median heuristic.
    t : float, default 1
        Diffusion time (coordinates scaled by λ^t).
    dense_limit : int, default 4000
        Largest N solved with a dense kernel.
    n_neighbors : int, default 50
        Neighbours per particle kept in the sparse kernel (N > ``dense_limit``).
    n_landmarks : int or None, default 4000
        Above this many particles, embed a random subset of this size and extend the map to
        the rest (Nyström, module notes); None embeds every particle.
    n_components : int, optional
        Mixture components on the coordinates; default by BIC over ``k_range``.
    k_range : tuple of int, default (1, 6)
        Range of K for BIC.
    random_state : int, default 0
        Seed of the mixture (and of eigsh's start vector).

    Attributes
    ----------
    epsilon_ : float
        Bandwidth used.
    eigenvalues_ : ndarray, shape (n_coords + 1,)
        λ_0 = 1, λ_1, …, in decreasing order.
    coordinates_ : ndarray, shape (N, n_coords)
        Diffusion coordinates Ψ_1 … of each particle (dimensionless).
    landmarks_ : ndarray of int or None
        Indices of the landmark particles (None when every particle was embedded).
    gmm_ : DescriptorGMM
        Mixture on the coordinates.
    labels_ : ndarray of int, shape (N,)
        Component of each particle.
    probabilities_ : ndarray, shape (N, K)
        Membership probabilities.
    """

    def __init__(
        self,
        n_coords: int = 2,
        *,
        alpha: float = 1.0,
        epsilon: float | None = None,
        t: float = 1.0,
        dense_limit: int = 4000,
        n_neighbors: int = 50,
        n_landmarks: int | None = 4000,
        n_components: int | None = None,
        k_range: tuple[int, int] = (1, 6),
        random_state: int = 0,
    ) -> None:
        self.n_coords = n_coords
        self.alpha = alpha
        self.epsilon = epsilon
        self.t = t
        self.dense_limit = dense_limit
        self.n_neighbors = n_neighbors
        self.n_landmarks = n_landmarks
        self.n_components = n_components
        self.k_range = k_range
        self.random_state = random_state

    def _kernel(self, Z: np.ndarray) -> np.ndarray | scipy.sparse.csr_matrix:
        n = len(Z)
        if n <= self.dense_limit:
            sq = pdist(Z, "sqeuclidean")
            self.epsilon_ = self._bandwidth(sq)
            return squareform(np.exp(-sq / self.epsilon_)) + np.eye(n)
        k = min(int(self.n_neighbors), n - 1)
        dist, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
        sq = dist[:, 1:] ** 2
        self.epsilon_ = self._bandwidth(sq.ravel())
        rows = np.repeat(np.arange(n), k + 1)
        weights = np.exp(-(dist ** 2) / self.epsilon_).ravel()
        kernel = scipy.sparse.csr_matrix((weights, (rows, idx.ravel())), shape=(n, n))
        return kernel.maximum(kernel.T).tocsr()

    def _bandwidth(self, sq: np.ndarray) -> float:
        if self.epsilon is not None:
            if not (np.isfinite(self.epsilon) and self.epsilon > 0):
                raise ValueError(f"epsilon must be a finite number > 0, got {self.epsilon!r}")
            return float(self.epsilon)
        median = float(np.median(sq))
        if median <= 0:
            raise ValueError(
                "the median squared distance between descriptors is 0 (most particles have "
                "identical descriptors); give epsilon explicitly"
            )
        return median

    def _embed(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Eigenvalues (m,), right eigenvectors ψ (n, m) and kernel row sums q (n,) of Z."""
        n = len(Z)
        kernel = self._kernel(Z)
        m = int(self.n_coords) + 1
        if scipy.sparse.issparse(kernel):
            q = np.asarray(kernel.sum(axis=1)).ravel()
            kernel = scipy.sparse.diags(q ** -self.alpha) @ kernel @ scipy.sparse.diags(q ** -self.alpha)
            d = np.asarray(kernel.sum(axis=1)).ravel()
            s = scipy.sparse.diags(d ** -0.5) @ kernel @ scipy.sparse.diags(d ** -0.5)
        else:
            q = kernel.sum(axis=1)
            kernel = kernel / np.outer(q, q) ** self.alpha
            d = kernel.sum(axis=1)
            s = kernel / np.sqrt(np.outer(d, d))
        if n <= EIGH_LIMIT:
            full = s.toarray() if scipy.sparse.issparse(s) else s
            values, vectors = scipy.linalg.eigh(full, subset_by_index=[n - m, n - 1])
        else:
            v0 = np.random.default_rng(self.random_state).uniform(0.5, 1.5, n)
            values, vectors = scipy.sparse.linalg.eigsh(s, k=m, which="LA", v0=v0)
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order]
        psi = vectors / np.sqrt(d)[:, None]
        psi *= np.sqrt(d.sum() / np.sum(d[:, None] * psi ** 2, axis=0))
        flip = np.sign(psi[np.abs(psi).argmax(axis=0), np.arange(m)])
        psi *= np.where(flip == 0, 1.0, flip)
        return values, psi, q

    def _extend(self, Z: np.ndarray, landmarks: np.ndarray, q: np.ndarray, psi: np.ndarray,
                values: np.ndarray, chunk: int = 2000) -> np.ndarray:
        """Nyström extension of the landmark eigenvectors ψ to every row of Z (module notes)."""
        out = np.empty((len(Z), psi.shape[1]))
        weights = psi / values  # ψ_k(l_j) / λ_k
        q_alpha = q ** -self.alpha
        for start in range(0, len(Z), chunk):
            sq = cdist(Z[start:start + chunk], landmarks, "sqeuclidean")
            k = np.exp(-sq / self.epsilon_)
            k_alpha = k * q_alpha * k.sum(axis=1, keepdims=True) ** -self.alpha
            out[start:start + chunk] = (k_alpha @ weights) / k_alpha.sum(axis=1, keepdims=True)
        return out

    def fit(self, X: np.ndarray, y: None = None) -> DiffusionMap:
        """Embed descriptors ``X`` of shape (N, F), then cluster the coordinates."""
        X = check_descriptors(X, min_rows=3)
        n = len(X)
        if int(self.n_coords) != self.n_coords or not 1 <= self.n_coords <= n - 2:
            raise ValueError(f"n_coords must be an integer between 1 and N - 2 = {n - 2}, "
                             f"got {self.n_coords!r}")
        if not 0 <= self.alpha <= 1:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha!r}")
        if not (np.isfinite(self.t) and self.t >= 0):
            raise ValueError(f"t must be a finite number >= 0, got {self.t!r}")
        if self.n_landmarks is not None and (
                int(self.n_landmarks) != self.n_landmarks or self.n_landmarks < self.n_coords + 2):
            raise ValueError(f"n_landmarks must be None or an integer >= n_coords + 2 = "
                             f"{int(self.n_coords) + 2}, got {self.n_landmarks!r}")
        if self.n_landmarks is not None and n > self.n_landmarks > self.dense_limit:
            raise ValueError(f"n_landmarks ({self.n_landmarks}) must not exceed dense_limit "
                             f"({self.dense_limit}): landmarks are embedded with the dense kernel")
        scale = X.std(axis=0)
        Z = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
        self.landmarks_ = None
        if self.n_landmarks is not None and n > self.n_landmarks:
            rng = np.random.default_rng(self.random_state)
            self.landmarks_ = np.sort(rng.choice(n, int(self.n_landmarks), replace=False))
            Z_fit = Z[self.landmarks_]
        else:
            Z_fit = Z
        values, psi, q = self._embed(Z_fit)
        if self.landmarks_ is not None:
            psi = self._extend(Z, Z_fit, q, psi, values)
        self.eigenvalues_ = values
        self.coordinates_ = psi[:, 1:] * values[1:] ** self.t
        self.gmm_ = DescriptorGMM(
            self.n_components, k_range=self.k_range, random_state=self.random_state
        ).fit(self.coordinates_)
        self.labels_ = self.gmm_.labels_
        self.probabilities_ = self.gmm_.probabilities_
        return self

    def fit_transform(self, X: np.ndarray, y: None = None) -> np.ndarray:
        """``fit(X).coordinates_``, shape (N, n_coords)."""
        return self.fit(X).coordinates_
