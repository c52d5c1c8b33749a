"""A graph network for propensity: message passing over neighbours on top of the ridge regression.

After Bapst et al., Nat. Phys. 16, 448 (2020): particles are the nodes of a graph whose edges join
particles closer than ``edge_cutoff`` (2 σ), and a few steps of message passing turn each node's
features into its propensity. Bapst et al. start from species alone and learn the structure from
~400 configurations; with the ten configurations available here that network reached Pearson
0.21 after 15 epochs (≈ 40 s each, on CPU) and a graph network on the structure functions alone
0.48–0.51, below the ridge regression it should beat. Boattini, Smallenburg & Filion (Phys. Rev.
Lett. 127, 088007 (2021)) explain why: a linear model of neighbour-averaged descriptors already
captures most of what such networks learn. The recipe here therefore keeps the ridge regression
as the network's linear skip connection and lets message passing learn a correction to it:

* node features: the standardised descriptor matrix of :mod:`.descriptors` (structure functions,
  log-transformed, and their 2.5 σ averages);
* encoder ``h⁰ = ReLU(W z)`` (``hidden`` units); ``steps`` message-passing steps with residual
  updates, ``m_i = mean_j h_j ⊙ σ(W_e φ(r_ij))`` over the edges, where ``φ`` are ``n_rbf`` Gaussian
  radial basis functions of the distance (0.7–``edge_cutoff``, width 0.2), and
  ``h ← LayerNorm(h + MLP([h, m]))``;
* output ``ŷ_i = w·h_i + (a·z_i + b)``: the linear skip ``a, b`` starts at the ridge solution
  (scikit-learn ``RidgeCV`` on the training particles) and ``w`` at zero, so training starts
  from the ridge regression's predictions;
* target: propensity standardised within each configuration (zero mean, unit variance over the
  model's species). Scores are Pearson correlations within a configuration, which ignore a
  configuration's mean mobility; fitting it wastes the model on what structure does not
  predict. Chosen on the training data (fit 1–8, score 9–10): ridge 0.513 → 0.538, this
  network 0.506 → 0.551; on the test configurations 401–403 the same choice moves ridge
  0.567 → 0.553;
* loss: mean squared error on the model's species, AdamW (``lr``, ``weight_decay``), one
  configuration per step in a seeded order, dropout ``dropout``; ``epochs`` passes.

Measured (``tests/benchmarks/bench_softness.py``; trained on configurations 1–10 of the BOTAN
release, Pearson on the A particles of 401–403): 0.546 against ridge 0.567 and SVM softness
0.499; on 2 / 5 / 10 configurations 0.452 / 0.520 / 0.546 (ridge 0.457 / 0.534 / 0.567). With
ten configurations the message passing adds nothing the ridge regression does not already have.

Models are saved with ``torch.save`` of tensors and JSON-safe values and read back with
``torch.load(weights_only=True)``; nothing is unpickled.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from sklearn.linear_model import RidgeCV
from torch import nn

from engine.runtime.device import resolve_device

from ..ordering.neighbors import pairs_within
from ..ordering.systems import ParticleSystem
from .descriptors import SoftnessDescriptors
from .isoconfig import GlassSample
from .models import describe_samples, training_rows

__all__ = ["GraphNetworkConfig", "GraphGlassModel", "train_propensity_gn", "load_graph_model"]

FORMAT = "matloop-glass-graph-network"


@dataclass(frozen=True)
class GraphNetworkConfig:
    """Hyperparameters of the propensity graph network (module notes).

    Parameters
    ----------
    hidden : int, default 32
        Units per node.
    steps : int, default 2
        Message-passing steps.
    edge_cutoff : float, default 2.0
        Edges join particles closer than this (length units).
    n_rbf : int, default 8
        Radial basis functions of the edge length.
    dropout : float, default 0.3
    lr : float, default 3e-4
    weight_decay : float, default 0.05
    epochs : int, default 20
    seed : int, default 0
    """

    hidden: int = 32
    steps: int = 2
    edge_cutoff: float = 2.0
    n_rbf: int = 8
    dropout: float = 0.3
    lr: float = 3e-4
    weight_decay: float = 0.05
    epochs: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden", "steps", "n_rbf", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "steps" else 1):
                raise ValueError(f"{name} must be a whole number ≥ {0 if name == 'steps' else 1}, got {value!r}")
        if not (np.isfinite(self.edge_cutoff) and self.edge_cutoff > 0.7):
            raise ValueError(f"edge_cutoff must be a length > 0.7 (the radial basis starts there), got {self.edge_cutoff!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not (self.lr > 0 and self.weight_decay >= 0):
            raise ValueError(f"lr must be > 0 and weight_decay ≥ 0, got {self.lr!r} and {self.weight_decay!r}")
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must be in [0, 2^32), got {self.seed!r}")


class _Network(nn.Module):
    """The message-passing network of the module notes."""

    def __init__(self, n_features: int, config: GraphNetworkConfig) -> None:
        super().__init__()
        h = config.hidden
        self.register_buffer("centres", torch.linspace(0.7, config.edge_cutoff, config.n_rbf))
        self.encoder = nn.Sequential(nn.Linear(n_features, h), nn.ReLU())
        self.gates = nn.ModuleList(nn.Linear(config.n_rbf, h) for _ in range(config.steps))
        self.updates = nn.ModuleList(nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Linear(h, h))
                                     for _ in range(config.steps))
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(config.steps))
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(h, 1)
        self.skip = nn.Linear(n_features, 1)

    def forward(self, z: torch.Tensor, i: torch.Tensor, j: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        basis = torch.exp(-(((r[:, None] - self.centres) / 0.2) ** 2))
        degree = torch.zeros(len(z), device=z.device).index_add_(0, i, torch.ones_like(r)).clamp_min(1)[:, None]
        h = self.dropout(self.encoder(z))
        for gate, update, norm in zip(self.gates, self.updates, self.norms):
            messages = torch.zeros_like(h).index_add_(0, i, h[j] * torch.sigmoid(gate(basis))) / degree
            h = norm(h + self.dropout(update(torch.cat([h, messages], dim=1))))
        return (self.out(h) + self.skip(z)).squeeze(1)


def _edges(system: ParticleSystem, cutoff: float, device: torch.device) -> tuple[torch.Tensor, ...]:
    i, j, _, r = pairs_within(system, cutoff)
    return (torch.as_tensor(i, device=device), torch.as_tensor(j, device=device),
            torch.as_tensor(r, dtype=torch.float32, device=device))


@dataclass(frozen=True, eq=False)
class GraphGlassModel:
    """A trained propensity graph network with its standardisation (module notes).

    Attributes
    ----------
    descriptors : SoftnessDescriptors
    species : str
    dim : int
    mean, scale : ndarray, shape (F,)
        Standardisation of the node features.
    config : GraphNetworkConfig
    state : dict of str to Tensor
        The network's weights (CPU).
    details : dict
        Training record: configurations, particles, epochs, seconds, seconds per epoch, device.
    """

    descriptors: SoftnessDescriptors
    species: str
    dim: int
    mean: np.ndarray
    scale: np.ndarray
    config: GraphNetworkConfig
    state: dict[str, torch.Tensor]
    details: dict = field(default_factory=dict)
    kind: str = "propensity"

    def network(self, device: torch.device) -> _Network:
        """The network with this model's weights, in evaluation mode on ``device``."""
        net = _Network(len(self.mean), self.config)
        net.load_state_dict(self.state)
        return net.to(device).eval()

    def predict(self, system: ParticleSystem, X: np.ndarray | None = None, device: str = "auto") -> np.ndarray:
        """Predicted propensity score of each particle, shape (N,); NaN for other species.

        The score is standardised within the configuration (as the training targets): compare it
        with propensity by correlation or rank, not by value.

        Raises
        ------
        ValueError
            A system of another dimension, descriptors of the wrong shape, or an unknown device.
        """
        if system.dim != self.dim:
            raise ValueError(f"this model was trained on {self.dim}D configurations; the system is {system.dim}D "
                             f"(structure functions of 2D and 3D packings are not comparable): train a {system.dim}D model")
        X = self.descriptors.describe(system) if X is None else np.asarray(X, dtype=float)
        if X.shape != (system.n_particles, len(self.mean)):
            raise ValueError(f"descriptors must have shape ({system.n_particles}, {len(self.mean)}), got {X.shape}")
        where = resolve_device(device)
        z = torch.as_tensor((X - self.mean) / self.scale, dtype=torch.float32, device=where)
        with torch.no_grad():
            y = self.network(where)(z, *_edges(system, self.config.edge_cutoff, where)).cpu().numpy()
        return np.where(system.species == self.species, y.astype(float), np.nan)

    def save(self, path: str | Path) -> Path:
        """Write the model (``torch.save`` of tensors and JSON-safe values); returns the path."""
        path = Path(path)
        torch.save({"format": FORMAT, "species": self.species, "dim": self.dim,
                    "descriptors": self.descriptors.to_record(), "config": asdict(self.config),
                    "mean": torch.as_tensor(self.mean), "scale": torch.as_tensor(self.scale),
                    "state": self.state, "details": self.details}, path)
        return path


def load_graph_model(path: str | Path) -> GraphGlassModel:
    """Read a model written by :meth:`GraphGlassModel.save` (``torch.load(weights_only=True)``).

    Raises
    ------
    ValueError
        Not such a model file, or weights that do not fit its network.
    """
    path = Path(path)
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means "not one of ours"
        raise ValueError(f"{path.name}: not a model file ({type(exc).__name__})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path.name}: not a matloop glass graph network (format {FORMAT!r} expected)")
    try:
        model = GraphGlassModel(SoftnessDescriptors.from_record(record["descriptors"]), str(record["species"]),
                                int(record["dim"]), record["mean"].numpy(), record["scale"].numpy(),
                                GraphNetworkConfig(**record["config"]), dict(record["state"]), dict(record["details"]))
        model.network(torch.device("cpu"))
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
        raise ValueError(f"{path.name}: damaged graph-network file ({type(exc).__name__}: {exc})") from None
    return model


def train_propensity_gn(samples: list[GlassSample], *, descriptors: SoftnessDescriptors | None = None,
                        features: list[np.ndarray] | None = None, species: str = "A",
                        config: GraphNetworkConfig | None = None, device: str = "auto",
                        progress: Callable[[int, int, float], None] | None = None) -> GraphGlassModel:
    """Train the propensity graph network on configurations with propensity (module notes).

    Parameters
    ----------
    samples : list of GlassSample
        Training configurations, each with ``propensity``.
    descriptors : SoftnessDescriptors, optional
        Default recipe of :mod:`.descriptors`.
    features : list of ndarray, optional
        The samples' precomputed descriptor matrices (same recipe).
    species : str, default "A"
        Species whose propensity is fitted (all particles take part in message passing).
    config : GraphNetworkConfig, optional
    device : str, default "auto"
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    progress : callable, optional
        Called after each epoch with (epoch, epochs, training loss).

    Raises
    ------
    ValueError
        As :func:`.models.train_propensity_ridge`, a configuration whose propensity is constant
        over ``species``, or an unknown device.
    """
    config = config or GraphNetworkConfig()
    descriptors = descriptors or SoftnessDescriptors()
    where = resolve_device(device)
    features = describe_samples(samples, descriptors) if features is None else features
    _, targets, dim = training_rows(samples, features, descriptors, species)
    if any(not t.std() > 0 for t in targets):
        raise ValueError(f"a training configuration has the same propensity for every {species} particle")
    X_all = np.vstack(features)
    mean, scale = X_all.mean(axis=0), X_all.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    graphs = []
    for sample, F, t in zip(samples, features, targets):
        mine = torch.as_tensor(sample.system.species == species, device=where)
        z = torch.as_tensor((np.asarray(F, dtype=float) - mean) / scale, dtype=torch.float32, device=where)
        y = torch.as_tensor((t - t.mean()) / t.std(), dtype=torch.float32, device=where)
        graphs.append((z, _edges(sample.system, config.edge_cutoff, where), mine, y))

    torch.manual_seed(config.seed)
    net = _Network(len(mean), config).to(where)
    Z = torch.cat([z[mine] for z, _, mine, _ in graphs]).cpu().numpy()
    ridge = RidgeCV(alphas=np.logspace(-4, 4, 17)).fit(Z, torch.cat([y for *_, y in graphs]).cpu().numpy())
    with torch.no_grad():
        net.skip.weight.copy_(torch.as_tensor(ridge.coef_, dtype=torch.float32)[None])
        net.skip.bias.fill_(float(ridge.intercept_))
        net.out.weight.zero_()
        net.out.bias.zero_()
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    order = np.random.default_rng(config.seed)
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        losses = []
        for k in order.permutation(len(graphs)):
            z, edges, mine, y = graphs[k]
            loss = ((net(z, *edges)[mine] - y) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        if progress is not None:
            progress(epoch, config.epochs, float(np.mean(losses)))
    seconds = time.perf_counter() - start
    details = {"configurations": len(samples), "training_particles": int(sum(len(y) for y in targets)),
               "epochs": config.epochs, "seconds": round(seconds, 2),
               "seconds_per_epoch": round(seconds / config.epochs, 3), "device": str(where),
               "ridge_alpha": float(ridge.alpha_), "parameters": sum(p.numel() for p in net.parameters())}
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    return GraphGlassModel(descriptors, species, dim, mean, scale, config, state, details)
