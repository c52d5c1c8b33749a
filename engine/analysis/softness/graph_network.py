"""A graph network for propensity: message passing over the ridge regression's prediction field.

After Bapst et al., Nat. Phys. 16, 448 (2020): particles are the nodes of a graph whose edges join
particles closer than ``edge_cutoff`` (2 σ), and steps of message passing turn each node's features
into its propensity. Bapst et al. start from species alone and learn the structure from ~400
configurations; with the ten configurations available here that network reached Pearson 0.21
after 15 epochs, and a network with a wide non-linear encoder of the structure functions
(32 ReLU units, ridge skip connection) overfitted: 0.546 against ridge 0.567. Boattini, Smallenburg
& Filion (Phys. Rev. Lett. 127, 088007 (2021)) found that coarse-graining the descriptors over
neighbours is what such networks add to a linear model. The recipe here therefore keeps the node
encoder linear and narrow and lets message passing coarse-grain it:

* node features ``z``: the standardised descriptor matrix of :mod:`.descriptors` (structure
  functions, log-transformed, and their 2.5 σ averages);
* a linear readout ``u = a·z + b`` that starts at the ridge solution (scikit-learn ``RidgeCV`` on
  the training particles, the same target as :func:`.models.train_propensity_ridge`), and
  ``channels`` further linear projections ``P z``;
* node state ``h⁰ = W [u·s, s, P z]`` (``hidden`` units), where ``s`` is 1 on the model's species
  and 0 elsewhere (the readout is fitted on that species only);
* ``steps`` residual message-passing steps ``h ← h + MLP([h, m])`` (tanh), with
  ``m_i = mean_j h_j ⊙ σ(W_e φ(r_ij))`` over the edges, where ``φ`` are ``n_rbf`` Gaussian radial
  basis functions of the distance (0.7–``edge_cutoff``, width 0.2); four steps reach 8 σ;
* output ``ŷ_i = w·h_i + u_i``, ``w`` starting at zero, so training starts from the ridge
  regression's predictions;
* loss: mean squared error between prediction and propensity, both centred within each
  configuration (over the model's species). Scores are Pearson correlations within a
  configuration; without the centring the network spends its coarse-graining on the
  configurations' mean mobility, which structure does not predict (Pearson on 9–10 fell from
  0.56 to 0.45 when a linear stack was fitted without it);
* AdamW (``lr``, ``weight_decay``), one configuration per step in a seeded order, ``epochs`` passes.

Chosen on the training data (fit configurations 1–8, score 9–10): 4 steps of 16 units for 60
epochs over 2–3 steps of 8 units for 20–80 epochs (0.55–0.60), and 3 channels over none (0.560
against 0.549; ridge 0.507). The target is propensity as such, the ridge model's: with propensity
standardised within each configuration the network gained more on 9–10 (0.604 against ridge
0.548) and less on 401–403 (0.560 against 0.549). With either target it beats its own ridge
regression on both sets.

Measured (``tests/benchmarks/bench_softness.py``; trained on configurations 1–10 of the BOTAN
release, Pearson on the A particles of 401–403): 0.599 against ridge 0.567 and SVM softness
0.499; on 2 / 5 / 10 configurations 0.475 / 0.557 / 0.599 (ridge 0.457 / 0.534 / 0.567), in
10 / 35 / 59 s of training on two CPU cores (1.1 s per epoch on ten configurations). The curve still
rises at ten configurations: published networks trained on ~400 reach 0.75–0.82.

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

#: Format 1 was the wide-encoder network of the module notes, format 2 the current one.
FORMAT, OLD_FORMATS = "matloop-glass-graph-network-2", ("matloop-glass-graph-network",)


@dataclass(frozen=True)
class GraphNetworkConfig:
    """Hyperparameters of the propensity graph network (module notes).

    Parameters
    ----------
    hidden : int, default 16
        Units per node.
    steps : int, default 4
        Message-passing steps.
    channels : int, default 3
        Linear projections of the descriptors next to the ridge readout.
    edge_cutoff : float, default 2.0
        Edges join particles closer than this (length units).
    n_rbf : int, default 8
        Radial basis functions of the edge length.
    lr : float, default 3e-3
    weight_decay : float, default 0.0
    epochs : int, default 60
    seed : int, default 0
    """

    hidden: int = 16
    steps: int = 4
    channels: int = 3
    edge_cutoff: float = 2.0
    n_rbf: int = 8
    lr: float = 3e-3
    weight_decay: float = 0.0
    epochs: int = 60
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden", "steps", "channels", "n_rbf", "epochs"):
            value, least = getattr(self, name), 0 if name in ("steps", "channels") else 1
            if not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be a whole number ≥ {least}, got {value!r}")
        if not (np.isfinite(self.edge_cutoff) and self.edge_cutoff > 0.7):
            raise ValueError(f"edge_cutoff must be a length > 0.7 (the radial basis starts there), got {self.edge_cutoff!r}")
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
        self.skip = nn.Linear(n_features, 1)
        self.channels = nn.Linear(n_features, config.channels) if config.channels else None
        self.embed = nn.Linear(2 + config.channels, h)
        self.gates = nn.ModuleList(nn.Linear(config.n_rbf, h) for _ in range(config.steps))
        self.updates = nn.ModuleList(nn.Sequential(nn.Linear(2 * h, h), nn.Tanh(), nn.Linear(h, h))
                                     for _ in range(config.steps))
        self.out = nn.Linear(h, 1)

    def forward(self, z: torch.Tensor, mine: torch.Tensor, i: torch.Tensor, j: torch.Tensor,
                r: torch.Tensor) -> torch.Tensor:
        basis = torch.exp(-(((r[:, None] - self.centres) / 0.2) ** 2))
        degree = torch.zeros(len(z), device=z.device).index_add_(0, i, torch.ones_like(r)).clamp_min(1)[:, None]
        u = self.skip(z)
        s = mine.to(z.dtype)[:, None]
        h = self.embed(torch.cat([u * s, s] + ([self.channels(z)] if self.channels is not None else []), dim=1))
        for gate, update in zip(self.gates, self.updates):
            messages = torch.zeros_like(h).index_add_(0, i, h[j] * torch.sigmoid(gate(basis))) / degree
            h = h + update(torch.cat([h, messages], dim=1))
        return (self.out(h) + u).squeeze(1)


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

        The network is trained on propensity centred within each configuration: compare the score
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
        mine = system.species == self.species
        with torch.no_grad():
            y = self.network(where)(z, torch.as_tensor(mine, device=where),
                                    *_edges(system, self.config.edge_cutoff, where)).cpu().numpy()
        return np.where(mine, y.astype(float), np.nan)

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
        Not such a model file, a file of an earlier format, or weights that do not fit its network.
    """
    path = Path(path)
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means "not one of ours"
        raise ValueError(f"{path.name}: not a model file ({type(exc).__name__})") from None
    if isinstance(record, dict) and record.get("format") in OLD_FORMATS:
        raise ValueError(f"{path.name}: a graph network of an earlier matloop version (another architecture); "
                         "train it again with train_propensity_gn")
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
        y = torch.as_tensor(t - t.mean(), dtype=torch.float32, device=where)
        graphs.append((z, mine, _edges(sample.system, config.edge_cutoff, where), y))

    torch.manual_seed(config.seed)
    net = _Network(len(mean), config).to(where)
    Z = torch.cat([z[mine] for z, mine, *_ in graphs]).cpu().numpy()
    ridge = RidgeCV(alphas=np.logspace(-4, 4, 17)).fit(Z, np.concatenate(targets))
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
            z, mine, edges, y = graphs[k]
            predicted = net(z, mine, *edges)[mine]
            loss = ((predicted - predicted.mean() - y) ** 2).mean()
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
