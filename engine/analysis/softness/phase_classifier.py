"""Liquid or glass? A message-passing network with attention over particles, and a baseline.

After Swanson, Trivedi, Lequieu, Swanson & Kondor, "Deep learning for automated classification
and characterization of amorphous materials", Soft Matter 16, 435 (2020): a snapshot is a graph
(particles are nodes, pairs closer than a cutoff are edges), a message-passing neural network
(Gilmer et al., ICML 2017) updates every particle's state from its neighbours, and a
self-attention readout weighs the particles into one vector that a small network classifies.
The attention weights are the interpretation: which particles drive the decision.

:class:`AttentionPhaseClassifier` (scikit-learn API: ``fit(systems, labels) -> self``):

* **graph** — edges (i, j) for every ordered pair with minimum-image distance r_ij < ``cutoff``
  (σ_AA; default 1.5, just past the first minimum of g(r): the first coordination shell of
  Kob–Andersen at ρ = 1.2, 15 neighbours on average in 3D and 7 in 2D, measured), from freud,
  in double precision (:mod:`..ordering.neighbors`). Only distances and species enter, so a prediction cannot change under a translation, a rotation
  (of a non-periodic cluster, or by a symmetry of a periodic box) or a relabelling of particles.
* **features** — edge: ``n_rbf`` Gaussians of r_ij (centres evenly on [0.5, cutoff], width =
  their spacing) times the smooth envelope ½ (cos(π r / cutoff) + 1), so a neighbour fades in
  and out continuously at the cutoff, and the one-hot ordered species pair. Node: a learnt
  embedding of the species plus a linear map of the particle's partial neighbour shells
  ``Σ_{j ∈ β} envelope(r_ij) · Gaussians(r_ij)`` (one block of ``n_rbf`` per species β),
  standardised with the mean and spread over the training particles (kept with the weights).
  Measured: with the species alone as input, training sat at chance (loss 0.693) for most of
  15 epochs and never left it in one of three seeds; with the shells every seed learnt within
  a few epochs.
* **message passing** — ``steps`` rounds (default 3) of ``m_i = Σ_j (W h_j) ⊙ F(e_ij) / z``
  (continuous-filter convolution, Schütt et al., J. Chem. Phys. 148, 241722 (2018); z = the mean
  neighbour count of the training data) and a gated-recurrent-unit update
  ``h_i ← GRU(LayerNorm(m_i), h_i)`` (Gilmer et al.'s update), hidden size ``hidden``. Liquid
  and glass differ by a few per cent in the local distance distribution; measured with species
  alone as node input, the pooled vectors of different snapshots differed by ~1e-4 at
  initialisation without the layer norm and training stayed at chance; a batch norm there
  learnt batch-relative cues and fell to chance in evaluation mode. With the shell input both
  variants learn; the layer norm got there in fewer epochs.
* **attention readout** — ``s_i = v · tanh(U h_i + c)``, ``a_i = exp(s_i) / Σ_k exp(s_k)`` over the
  particles of one snapshot (a_i ≥ 0, Σ_i a_i = 1), ``g = Σ_i a_i h_i``, and class probabilities
  ``softmax(MLP(g))``. ``g`` is a weighted mean, so the network takes any N.

Trained with Adam on the cross entropy, seeded (weights, minibatch order); ``training_record_``
holds the loss per epoch and the seconds. Saved as a torch ``state_dict`` (``torch.save``, read
back with ``torch.load(..., weights_only=True)``, nothing unpickled) plus a JSON sidecar with the
hyperparameters, classes, species, dimension and training record.

:class:`RDFBaseline` is a classical baseline of the structure-function family (hand-made
radial descriptors + a linear classifier, as in the softness work of :mod:`.models`): the
partial radial distribution functions g_αβ(r) of a snapshot as a histogram (bins of
``bin_width`` up to ``r_max``), standardised, and a logistic regression (scikit-learn).

Measured (``tests/benchmarks/bench_softness_phase.py``; N = 200, default :class:`.ka_md.
QuenchProtocol`, 48 training snapshots from 6 seeds, 32 test snapshots from 4 other seeds,
one CPU thread): held-out accuracy 3D 1.000 (three network seeds) against 1.000 for the
baseline, 2D 0.990 (min 0.969) against 1.000; ~0.4 s per epoch, 5–10 ms per snapshot to
predict. Both tell a thermal liquid from a quenched glass mostly by the sharper pair structure
of the glass (module notes of :mod:`.ka_md`). On inherent structures of the same protocol
(``minimize=True``: vibrations removed; energies per particle −7.540 against −7.564, a 10 τ
quench leaves little configurational difference) both are near chance (0.50 and 0.59):
there is little left to find at this cooling rate and data size.

Lengths are in the units of the positions; the network is only meaningful on data in the units
and at the density it was trained with (σ_AA, ρ = 1.2 for :mod:`.ka_md`).
"""

from __future__ import annotations

import json
import pickle  # only for the error type of a damaged file; nothing is unpickled
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import freud
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from torch import nn

from engine.runtime.device import resolve_device

from ..ordering.neighbors import pairs_within
from ..ordering.systems import ParticleSystem

__all__ = ["AttentionPhaseClassifier", "RDFBaseline", "as_snapshot", "train_phase_classifier"]

_FORMAT = "matloop-phase-attention-gnn"
_FORMAT_VERSION = 1
_RBF_START = 0.5


def as_snapshot(positions: Any, species: Any, box: Any) -> ParticleSystem:
    """Validate raw arrays into a :class:`ParticleSystem` the classifiers accept.

    Parameters
    ----------
    positions : array_like, shape (N, d)
        Coordinates (σ_AA), d = 2 or 3, finite.
    species : array_like of str, shape (N,)
        Particle types (``"A"``, ``"B"``).
    box : freud.box.Box, float or sequence of d floats
        The periodic box, or its side lengths (an orthorhombic periodic box; one length: a cube
        or a square; coordinates are wrapped into it, centred on the origin).

    Returns
    -------
    ParticleSystem

    Raises
    ------
    ValueError
        No box, missing species, NaN or infinite coordinates, wrong shapes, d not 2 or 3.
    """
    if box is None:
        raise ValueError("a snapshot needs its box: give a freud.box.Box or the d side lengths; "
                         "the network's neighbours are found with periodic minimum images")
    if species is None:
        raise ValueError("a snapshot needs the species of every particle (shape (N,), e.g. 'A'/'B')")
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2 or pos.shape[1] not in (2, 3):
        raise ValueError(f"positions must have shape (N, 2) or (N, 3), got {pos.shape}")
    if not isinstance(box, freud.box.Box):
        try:
            lengths = np.asarray(box, dtype=float).ravel()
        except (TypeError, ValueError):
            lengths = np.empty(0)
        if lengths.shape == (1,):  # one length: a cube or a square
            lengths = np.repeat(lengths, pos.shape[1])
        if lengths.shape != (pos.shape[1],):
            raise ValueError(f"box must be a freud.box.Box or {pos.shape[1]} side lengths, got {box!r}")
        if not (np.isfinite(lengths).all() and (lengths > 0).all()):
            raise ValueError(f"box side lengths must be finite numbers > 0, got {lengths.tolist()}")
        box = (freud.box.Box(Lx=lengths[0], Ly=lengths[1], is2D=True) if pos.shape[1] == 2
               else freud.box.Box(*lengths))
    return ParticleSystem(pos, box, species=np.asarray(species))


@dataclass(frozen=True)
class _Graphs:
    """A batch of snapshot graphs, concatenated (tensors on the CPU)."""

    species: torch.Tensor  # (N_tot,) int64 species index
    edges: torch.Tensor  # (2, E) int64 (receiver i, sender j), global indices
    distances: torch.Tensor  # (E,) float32
    batch: torch.Tensor  # (N_tot,) int64 snapshot index
    sizes: tuple[int, ...]  # particles per snapshot

    def to(self, device: torch.device) -> _Graphs:
        return _Graphs(self.species.to(device), self.edges.to(device), self.distances.to(device),
                       self.batch.to(device), self.sizes)


def _snapshot_edges(system: ParticleSystem, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ordered pairs closer than ``cutoff``: i, j (int64) and r_ij (float64), shape (E,)."""
    i, j, _, r = pairs_within(system, cutoff)
    return i, j, r


def _build_graphs(systems: Sequence[ParticleSystem], species: Sequence[str], cutoff: float) -> _Graphs:
    index = {name: k for k, name in enumerate(species)}
    kinds, rec, send, dist, batch, sizes = [], [], [], [], [], []
    offset = 0
    for g, system in enumerate(systems):
        i, j, r = _snapshot_edges(system, cutoff)
        kinds.append(np.array([index[s] for s in system.species], dtype=np.int64))
        rec.append(i + offset)
        send.append(j + offset)
        dist.append(r)
        batch.append(np.full(system.n_particles, g, dtype=np.int64))
        sizes.append(system.n_particles)
        offset += system.n_particles
    return _Graphs(
        torch.as_tensor(np.concatenate(kinds)),
        torch.as_tensor(np.stack([np.concatenate(rec), np.concatenate(send)])),
        torch.as_tensor(np.concatenate(dist), dtype=torch.float32),
        torch.as_tensor(np.concatenate(batch)),
        tuple(sizes),
    )


def _segment_softmax(scores: torch.Tensor, batch: torch.Tensor, n_graphs: int) -> torch.Tensor:
    """Softmax of ``scores`` (N_tot,) within each graph of ``batch``."""
    top = torch.full((n_graphs,), -torch.inf, device=scores.device, dtype=scores.dtype)
    top = top.scatter_reduce(0, batch, scores, reduce="amax", include_self=True)
    e = torch.exp(scores - top[batch])
    total = torch.zeros(n_graphs, device=scores.device, dtype=scores.dtype).index_add(0, batch, e)
    return e / total[batch]


class _AttentionMPNN(nn.Module):
    """The network of the module notes; ``forward`` returns (logits (G, C), attention (N_tot,))."""

    def __init__(self, n_species: int, n_classes: int, hidden: int, steps: int, n_rbf: int,
                 cutoff: float, mean_degree: float) -> None:
        super().__init__()
        self.n_species, self.n_rbf, self.cutoff = n_species, n_rbf, float(cutoff)
        self.register_buffer("centres", torch.linspace(_RBF_START, float(cutoff), n_rbf))
        self.register_buffer("mean_degree", torch.tensor(float(mean_degree)))
        self.register_buffer("shell_mean", torch.zeros(n_species * n_rbf))
        self.register_buffer("shell_scale", torch.ones(n_species * n_rbf))
        self.width = (float(cutoff) - _RBF_START) / max(n_rbf - 1, 1)
        self.embed = nn.Embedding(n_species, hidden)
        self.shell = nn.Linear(n_species * n_rbf, hidden)
        edge_in = n_rbf + n_species * n_species
        self.filters = nn.ModuleList(
            nn.Sequential(nn.Linear(edge_in, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
            for _ in range(steps))
        self.senders = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(steps))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(steps))
        self.update = nn.GRUCell(hidden, hidden)
        self.score = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, n_classes))

    def _edges(self, graphs: _Graphs) -> tuple[torch.Tensor, torch.Tensor]:
        """Radial basis (E, K) and envelope (E,) of every edge."""
        r = graphs.distances
        rbf = torch.exp(-0.5 * ((r[:, None] - self.centres[None, :]) / self.width) ** 2)
        return rbf, 0.5 * (torch.cos(torch.pi * r / self.cutoff) + 1.0)

    def shells(self, graphs: _Graphs, rbf: torch.Tensor | None = None,
               envelope: torch.Tensor | None = None) -> torch.Tensor:
        """Each particle's smoothed partial neighbour density, shape (N_tot, S · K), raw."""
        if rbf is None or envelope is None:
            rbf, envelope = self._edges(graphs)
        rec, send = graphs.edges
        n = graphs.species.shape[0]
        slots = rec * self.n_species + graphs.species[send]
        out = torch.zeros(n * self.n_species, self.n_rbf, device=rbf.device, dtype=rbf.dtype)
        return out.index_add(0, slots, rbf * envelope[:, None]).view(n, -1)

    def forward(self, graphs: _Graphs) -> tuple[torch.Tensor, torch.Tensor]:
        rec, send = graphs.edges
        rbf, envelope = self._edges(graphs)
        pair = graphs.species[rec] * self.n_species + graphs.species[send]
        edge = torch.cat([rbf, nn.functional.one_hot(pair, self.n_species**2).to(rbf.dtype)], dim=1)
        local = (self.shells(graphs, rbf, envelope) - self.shell_mean) / self.shell_scale
        h = self.embed(graphs.species) + self.shell(local)
        for filt, sender, norm in zip(self.filters, self.senders, self.norms):
            messages = sender(h)[send] * filt(edge) * envelope[:, None]
            m = torch.zeros_like(h).index_add(0, rec, messages) / self.mean_degree
            h = self.update(norm(m), h)
        n_graphs = len(graphs.sizes)
        attention = _segment_softmax(self.score(h).squeeze(1), graphs.batch, n_graphs)
        pooled = torch.zeros(n_graphs, h.shape[1], device=h.device, dtype=h.dtype)
        pooled = pooled.index_add(0, graphs.batch, attention[:, None] * h)
        return self.head(pooled), attention


def _check_systems(systems: Any, what: str = "systems") -> list[ParticleSystem]:
    if isinstance(systems, ParticleSystem):
        systems = [systems]
    systems = list(systems)
    if not systems:
        raise ValueError(f"{what} is empty; give at least one snapshot")
    for k, s in enumerate(systems):
        if not isinstance(s, ParticleSystem):
            raise ValueError(f"snapshot {k} is a {type(s).__name__}, not a ParticleSystem; build "
                             "one with as_snapshot(positions, species, box)")
        if s.species is None:
            raise ValueError(f"snapshot {k} has no species; the classifier needs the type of every "
                             "particle (ParticleSystem(..., species=...))")
    return systems


class AttentionPhaseClassifier:
    """Liquid/glass classifier of whole snapshots with attention over particles (module notes).

    Parameters
    ----------
    cutoff : float, default 1.5
        Neighbour cutoff (length units), below half the box side of every snapshot.
    hidden : int, default 32
        Width of particle states and hidden layers.
    steps : int, default 3
        Message-passing rounds.
    n_rbf : int, default 12
        Gaussian distance features per edge.
    epochs : int, default 20
        Passes over the training snapshots.
    batch_size : int, default 4
        Snapshots per Adam step.
    learning_rate : float, default 2e-3
    weight_decay : float, default 1e-5
    random_state : int, default 0
        Seeds the weights and the minibatch order.
    device : str, default "auto"
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Attributes
    ----------
    classes_ : ndarray of str, shape (C,)
        Class names, sorted (``["glass", "liquid"]``).
    species_ : tuple of str
        Species seen in training, sorted; others are refused.
    dim_ : int
        Spatial dimension of the training data; others are refused.
    network_ : torch.nn.Module
        The fitted network (on ``device``).
    training_record_ : dict
        ``loss`` (mean cross entropy) and ``epoch_seconds`` per epoch; ``graph_seconds``
        (neighbour lists), ``seconds`` (the whole fit), ``accuracy`` on the training snapshots,
        ``n_snapshots``, ``mean_degree`` (edges per particle), ``device``.
    """

    def __init__(
        self,
        *,
        cutoff: float = 1.5,
        hidden: int = 32,
        steps: int = 3,
        n_rbf: int = 12,
        epochs: int = 20,
        batch_size: int = 4,
        learning_rate: float = 2e-3,
        weight_decay: float = 1e-5,
        random_state: int = 0,
        device: str = "auto",
    ) -> None:
        self.cutoff = cutoff
        self.hidden = hidden
        self.steps = steps
        self.n_rbf = n_rbf
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.device = device

    _ARCHITECTURE = ("cutoff", "hidden", "steps", "n_rbf")
    _TRAINING = ("epochs", "batch_size", "learning_rate", "weight_decay", "random_state")

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (JSON-safe), as scikit-learn's ``get_params``."""
        return {name: getattr(self, name) for name in (*self._ARCHITECTURE, *self._TRAINING, "device")}

    def _validate_params(self) -> None:
        if not (np.isfinite(self.cutoff) and self.cutoff > _RBF_START):
            raise ValueError(f"cutoff must be a finite length > {_RBF_START}, got {self.cutoff!r}")
        for name in ("hidden", "steps", "n_rbf", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not (self.learning_rate > 0 and self.weight_decay >= 0):
            raise ValueError(f"need learning_rate > 0 and weight_decay >= 0, got "
                             f"{self.learning_rate!r}, {self.weight_decay!r}")
        seed = self.random_state
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"random_state must be an integer >= 0, got {seed!r}")

    # --- data ----------------------------------------------------------------------------

    def _graphs(self, systems: Any) -> _Graphs:
        """Validated snapshots of a fitted classifier as one graph batch."""
        self._check_fitted()
        systems = _check_systems(systems)
        for k, s in enumerate(systems):
            if s.dim != self.dim_:
                raise ValueError(
                    f"this classifier was trained on {self.dim_}D snapshots; snapshot {k} is "
                    f"{s.dim}D. Train a separate classifier for {s.dim}D data"
                )
            unknown = sorted(set(s.species) - set(self.species_))
            if unknown:
                raise ValueError(f"snapshot {k} has species {unknown} not seen in training; "
                                 f"allowed: {list(self.species_)}")
        return _build_graphs(systems, self.species_, float(self.cutoff))

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise ValueError("this classifier is not fitted yet; call fit(systems, labels) or load()")

    # --- learning ------------------------------------------------------------------------

    def fit(self, systems: Sequence[ParticleSystem], labels: Sequence[str]) -> AttentionPhaseClassifier:
        """Learn from snapshots and their phase labels.

        Parameters
        ----------
        systems : sequence of ParticleSystem
            Snapshots with species, all of one dimension.
        labels : sequence of str, shape (S,)
            Phase of each snapshot (e.g. ``"liquid"``, ``"glass"``); at least two classes.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad parameters, snapshots without species or of mixed dimension, labels of the wrong
            length or a single class, a cutoff too long for a box.
        """
        self._validate_params()
        systems = _check_systems(systems)
        y = np.asarray(labels).astype(str)
        if y.shape != (len(systems),):
            raise ValueError(f"labels must have shape ({len(systems)},) to match the snapshots, "
                             f"got {y.shape}")
        if np.unique(y).size < 2:
            raise ValueError("labels must hold at least two classes")
        device = resolve_device(self.device)
        start = time.perf_counter()
        dims = sorted({s.dim for s in systems})
        if len(dims) != 1:
            raise ValueError(f"training snapshots must share one dimension, got {dims}")
        self.dim_ = dims[0]
        self.species_ = tuple(sorted({str(t) for s in systems for t in s.species}))
        self.classes_, target = np.unique(y, return_inverse=True)
        per_snapshot = [_build_graphs([s], self.species_, float(self.cutoff)) for s in systems]
        degree = float(np.mean([g.edges.shape[1] / g.species.shape[0] for g in per_snapshot]))
        seed = int(self.random_state)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.network_ = _AttentionMPNN(len(self.species_), len(self.classes_), int(self.hidden),
                                           int(self.steps), int(self.n_rbf), float(self.cutoff),
                                           max(degree, 1.0))
            with torch.no_grad():
                shells = self.network_.shells(_concat(per_snapshot)).double()
            self.network_.shell_mean.copy_(shells.mean(dim=0).float())
            self.network_.shell_scale.copy_(shells.std(dim=0).clamp_min(1e-3).float())
        self.network_.to(device)
        optimiser = torch.optim.Adam(self.network_.parameters(), lr=float(self.learning_rate),
                                     weight_decay=float(self.weight_decay))
        generator = torch.Generator().manual_seed(seed + 1)
        truth = torch.as_tensor(target, dtype=torch.long)
        loss_fn = nn.CrossEntropyLoss()
        losses, epoch_seconds = [], []
        graph_seconds = time.perf_counter() - start
        self.network_.train()
        for _ in range(int(self.epochs)):
            t0 = time.perf_counter()
            order = torch.randperm(len(systems), generator=generator).tolist()
            total = 0.0
            for b in range(0, len(order), int(self.batch_size)):
                idx = order[b:b + int(self.batch_size)]
                batch = _concat([per_snapshot[k] for k in idx]).to(device)
                optimiser.zero_grad()
                logits, _ = self.network_(batch)
                loss = loss_fn(logits, truth[idx].to(device))
                loss.backward()
                optimiser.step()
                total += float(loss.item()) * len(idx)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            losses.append(total / len(systems))
            epoch_seconds.append(time.perf_counter() - t0)
        self.network_.eval()
        accuracy = float(np.mean(self._proba(_concat(per_snapshot))[0].argmax(axis=1) == target))
        self.training_record_ = {
            "loss": losses,
            "epoch_seconds": epoch_seconds,
            "graph_seconds": graph_seconds,
            "seconds": time.perf_counter() - start,
            "accuracy": accuracy,
            "n_snapshots": len(systems),
            "mean_degree": degree,
            "device": str(device),
        }
        return self

    # --- prediction ----------------------------------------------------------------------

    def _proba(self, graphs: _Graphs) -> tuple[np.ndarray, list[np.ndarray]]:
        device = next(self.network_.parameters()).device
        with torch.no_grad():
            logits, attention = self.network_(graphs.to(device))
        proba = torch.softmax(logits.double(), dim=1).cpu().numpy()
        weights = attention.double().cpu().numpy()
        return proba, np.split(weights, np.cumsum(graphs.sizes)[:-1])

    def predict_with_attention(self, systems: Any) -> tuple[np.ndarray, list[np.ndarray]]:
        """Class probabilities and each snapshot's attention weights.

        Parameters
        ----------
        systems : ParticleSystem or sequence of ParticleSystem
            Snapshots of the training dimension, with species seen in training.

        Returns
        -------
        proba : ndarray, shape (S, C)
            Columns in the order of ``classes_``; rows sum to 1.
        attention : list of S ndarrays, shape (N_s,)
            Weight of each particle in the readout: ≥ 0, summing to 1 per snapshot; large
            weights mark the particles that drive the decision.

        Raises
        ------
        ValueError
            Not fitted, a snapshot of another dimension, without species or with unknown species,
            or a box too small for the cutoff.
        """
        return self._proba(self._graphs(systems))

    def predict_proba(self, systems: Any) -> np.ndarray:
        """Class probabilities, shape (S, C), columns in the order of ``classes_``."""
        return self.predict_with_attention(systems)[0]

    def predict(self, systems: Any) -> np.ndarray:
        """Most probable class of each snapshot, shape (S,)."""
        proba = self.predict_proba(systems)
        return self.classes_[proba.argmax(axis=1)]

    def attention(self, system: ParticleSystem) -> np.ndarray:
        """Attention weight of each particle of one snapshot, shape (N,), ≥ 0, sum 1."""
        return self.predict_with_attention([system])[1][0]

    # --- persistence ---------------------------------------------------------------------

    @staticmethod
    def _sidecar(path: Path) -> Path:
        if path.suffix == ".json":
            raise ValueError(f"{str(path)!r}: give the weights file (e.g. model.pt); the JSON "
                             "sidecar is written next to it")
        return path.with_suffix(".json")

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write the weights (``torch.save`` of the ``state_dict``) and a JSON sidecar.

        Returns
        -------
        weights, sidecar : Path
            ``path`` and ``path`` with suffix ``.json``.
        """
        self._check_fitted()
        path = Path(path)
        sidecar = self._sidecar(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.detach().cpu() for k, v in self.network_.state_dict().items()}, path)
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "params": self.get_params(),
            "classes": [str(c) for c in self.classes_],
            "species": list(self.species_),
            "dim": int(self.dim_),
            "training_record": self.training_record_,
            "versions": {"torch": str(torch.__version__), "numpy": str(np.__version__),
                         "python": sys.version.split()[0]},
        }
        sidecar.write_text(json.dumps(meta, indent=1))
        return path, sidecar

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> AttentionPhaseClassifier:
        """Read a classifier written by :meth:`save` (``weights_only=True``) onto ``device``.

        Raises
        ------
        ValueError
            A missing or damaged file, another format or version, weights that do not fit the
            sidecar's hyperparameters.
        """
        path = Path(path)
        sidecar = cls._sidecar(path)
        try:
            meta = json.loads(sidecar.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read the classifier's sidecar {str(sidecar)!r}: {error}") from None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError(f"{str(sidecar)!r} is not a saved attention phase classifier")
        if meta.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{str(sidecar)!r} has format version {meta.get('version')!r}; "
                             f"this matloop reads {_FORMAT_VERSION}")
        target = resolve_device(device)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
            raise ValueError(f"cannot read classifier weights from {str(path)!r}: {error}") from None
        try:
            params = dict(meta["params"], device=device)
            model = cls(**params)
            model._validate_params()
            model.classes_ = np.asarray(meta["classes"], dtype=str)
            model.species_ = tuple(str(s) for s in meta["species"])
            model.dim_ = int(meta["dim"])
            model.training_record_ = dict(meta["training_record"])
            network = _AttentionMPNN(len(model.species_), len(model.classes_), int(model.hidden),
                                     int(model.steps), int(model.n_rbf), float(model.cutoff),
                                     float(model.training_record_["mean_degree"]))
            network.load_state_dict(state)
        except (KeyError, TypeError, RuntimeError, AttributeError) as error:
            raise ValueError(f"{str(path)!r} does not match its sidecar ({type(error).__name__}: "
                             f"{error})") from None
        model.network_ = network.to(target).eval()
        return model


def _concat(graphs: Sequence[_Graphs]) -> _Graphs:
    """Join per-snapshot graphs into one batch (indices shifted)."""
    offsets = np.cumsum([0] + [g.species.shape[0] for g in graphs[:-1]])
    return _Graphs(
        torch.cat([g.species for g in graphs]),
        torch.cat([g.edges + int(o) for g, o in zip(graphs, offsets)], dim=1),
        torch.cat([g.distances for g in graphs]),
        torch.cat([torch.full_like(g.batch, k) for k, g in enumerate(graphs)]),
        tuple(s for g in graphs for s in g.sizes),
    )


def train_phase_classifier(
    systems: Sequence[ParticleSystem],
    labels: Sequence[str],
    *,
    seed: int = 0,
    device: str = "auto",
    **params: Any,
) -> tuple[AttentionPhaseClassifier, dict[str, Any]]:
    """Fit an :class:`AttentionPhaseClassifier` and return it with its training record.

    Parameters
    ----------
    systems, labels
        As :meth:`AttentionPhaseClassifier.fit`.
    seed : int, default 0
        ``random_state``.
    device : str, default "auto"
    **params
        Other constructor parameters.

    Returns
    -------
    model : AttentionPhaseClassifier
    record : dict
        ``model.training_record_`` (losses, seconds per epoch, total seconds, accuracy).
    """
    model = AttentionPhaseClassifier(random_state=seed, device=device, **params).fit(systems, labels)
    return model, model.training_record_


class RDFBaseline:
    """Logistic regression on partial radial distribution functions (module notes).

    Parameters
    ----------
    r_max : float, default 2.5
        Histogram range (0, r_max] (length units), below half the box side.
    bin_width : float, default 0.05
    C : float, default 1.0
        Inverse L2 regularisation strength of the logistic regression.

    Attributes
    ----------
    classes_ : ndarray of str
    species_ : tuple of str
    dim_ : int
    scaler_ : sklearn.preprocessing.StandardScaler
    model_ : sklearn.linear_model.LogisticRegression
    """

    def __init__(self, *, r_max: float = 2.5, bin_width: float = 0.05, C: float = 1.0) -> None:
        self.r_max = r_max
        self.bin_width = bin_width
        self.C = C

    def features(self, systems: Any, species: Sequence[str] | None = None) -> np.ndarray:
        """Partial g_αβ(r) histograms of each snapshot, shape (S, P · bins), P species pairs α ≤ β.

        ``g_αβ(r) = n_αβ(r) V / (N_α N'_β v(r))``: n_αβ the ordered (i ∈ α, j ∈ β) pairs with
        distance in the bin at r, v(r) the shell's volume (area in 2D), N'_β = N_β − δ_αβ; an
        ideal gas gives 1. ``species`` fixes the pair order (default: those seen in ``fit``).
        """
        systems = _check_systems(systems)
        species = tuple(species) if species is not None else getattr(self, "species_", None)
        if species is None:
            species = tuple(sorted({str(t) for s in systems for t in s.species}))
        edges = np.arange(0.0, float(self.r_max) + 0.5 * self.bin_width, float(self.bin_width))
        pairs = [(a, b) for k, a in enumerate(species) for b in species[k:]]
        out = np.zeros((len(systems), len(pairs) * (len(edges) - 1)))
        for row, system in enumerate(systems):
            d = system.dim
            shell = (np.pi * np.diff(edges**2) if d == 2 else 4.0 / 3.0 * np.pi * np.diff(edges**3))
            i, j, r = _snapshot_edges(system, float(self.r_max))
            kinds = np.asarray(system.species)
            counts = {name: int(np.sum(kinds == name)) for name in species}
            volume = float(system.box.volume)
            for p, (a, b) in enumerate(pairs):
                sel = (kinds[i] == a) & (kinds[j] == b)
                hist = np.histogram(r[sel], bins=edges)[0].astype(float)
                norm = counts[a] * max(counts[b] - (a == b), 1) / volume * shell
                out[row, p * len(shell):(p + 1) * len(shell)] = hist / np.where(norm > 0, norm, 1.0)
        return out

    def fit(self, systems: Sequence[ParticleSystem], labels: Sequence[str]) -> RDFBaseline:
        """Fit the scaler and the logistic regression; returns self.

        Raises
        ------
        ValueError
            Bad settings, snapshots without species or of mixed dimension, labels of the wrong
            length or a single class, ``r_max`` too long for a box.
        """
        if not (0 < self.bin_width < self.r_max and np.isfinite(self.r_max) and self.C > 0):
            raise ValueError(f"need 0 < bin_width < r_max (finite) and C > 0, got "
                             f"{self.bin_width!r}, {self.r_max!r}, {self.C!r}")
        systems = _check_systems(systems)
        if len({s.dim for s in systems}) != 1:
            raise ValueError("training snapshots must share one dimension")
        y = np.asarray(labels).astype(str)
        if y.shape != (len(systems),) or np.unique(y).size < 2:
            raise ValueError("labels must have one entry per snapshot and at least two classes")
        self.dim_ = systems[0].dim
        self.species_ = tuple(sorted({str(t) for s in systems for t in s.species}))
        X = self.features(systems, self.species_)
        self.scaler_ = StandardScaler().fit(X)
        self.model_ = LogisticRegression(C=float(self.C), max_iter=5000).fit(self.scaler_.transform(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, systems: Any) -> np.ndarray:
        """Class probabilities, shape (S, C), columns in the order of ``classes_``."""
        if not hasattr(self, "model_"):
            raise ValueError("this baseline is not fitted yet; call fit(systems, labels)")
        systems = _check_systems(systems)
        if any(s.dim != self.dim_ for s in systems):
            raise ValueError(f"this baseline was fitted on {self.dim_}D snapshots")
        return self.model_.predict_proba(self.scaler_.transform(self.features(systems, self.species_)))

    def predict(self, systems: Any) -> np.ndarray:
        """Most probable class of each snapshot, shape (S,)."""
        proba = self.predict_proba(systems)
        return self.classes_[proba.argmax(axis=1)]
