"""Seeded tracks with known truth: free Brownian and harmonically trapped particles.

The ground truth for the tests, the benchmark and the app's demo (like trackpy's ``artificial``).
Each particle belongs to a :class:`Population`: free diffusion with coefficient ``D``, or
diffusion with the same ``D`` in an isotropic harmonic trap of stiffness ``k`` whose stationary
variance per coordinate is ``v = k_B T / k``. Both updates are exact at any frame interval:

* free: ``r(t + Δt) = r(t) + sqrt(2 D Δt) ξ``;
* trapped (Ornstein–Uhlenbeck, Uhlenbeck & Ornstein 1930; exact update of Gillespie 1996,
  Phys. Rev. E 54, 2084): ``r(t + Δt) = c + (r(t) − c) e^(−Δt/τ) + sqrt(v (1 − e^(−2Δt/τ))) ξ`` with the
  relaxation time ``τ = v / D``, started from the stationary distribution, so that
  ``MSD(t) = 2 d v (1 − e^(−t/τ))`` and ``MSD(∞) = 2 d v = 2 d k_B T / k``;

with ``ξ`` standard normal per coordinate and ``d = 2``. The observed positions add independent
Gaussian localisation noise of standard deviation ``sigma`` per coordinate (static error only:
no motion blur), which adds ``2 d σ²`` to every MSD point (Michalet 2010, Phys. Rev. E 82,
041914). Lengths are in one unit of the caller's choice (px or µm), times in s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Population", "simulate_tracks", "trapped_msd"]


@dataclass(frozen=True)
class Population:
    """A group of tracks with one kind of motion.

    Parameters
    ----------
    name : str
        Label written to the ``population`` column of the simulated table.
    n_tracks : int
        Number of tracks, ≥ 1.
    diffusion : float
        Diffusion coefficient ``D`` (> 0), length²/s.
    trap_variance : float or None, default None
        Stationary variance ``v = k_B T / k`` of each coordinate in a harmonic trap, length²
        (> 0); ``None`` for free diffusion.

    Raises
    ------
    ValueError
        An empty name, ``n_tracks < 1``, a non-positive or non-finite ``diffusion`` or
        ``trap_variance``.
    """

    name: str
    n_tracks: int
    diffusion: float
    trap_variance: float | None = None

    def __post_init__(self) -> None:
        if not str(self.name):
            raise ValueError("a population needs a non-empty name")
        if int(self.n_tracks) != self.n_tracks or self.n_tracks < 1:
            raise ValueError(f"population {self.name!r}: n_tracks must be an integer >= 1; got {self.n_tracks!r}")
        if not (math.isfinite(self.diffusion) and self.diffusion > 0):
            raise ValueError(f"population {self.name!r}: diffusion must be a finite number > 0 (length²/s); "
                             f"got {self.diffusion!r}")
        if self.trap_variance is not None and not (math.isfinite(self.trap_variance) and self.trap_variance > 0):
            raise ValueError(f"population {self.name!r}: trap_variance must be a finite number > 0 (length²) "
                             f"or None for free diffusion; got {self.trap_variance!r}")

    @property
    def relaxation_time(self) -> float:
        """Trap relaxation time ``τ = v / D``, s (``inf`` for free diffusion)."""
        return math.inf if self.trap_variance is None else self.trap_variance / self.diffusion


def trapped_msd(lag_time: np.ndarray | float, diffusion: float, trap_variance: float, *, dims: int = 2,
                sigma: float = 0.0) -> np.ndarray:
    """Analytic MSD of diffusion in a harmonic trap, with static localisation noise.

    ``MSD(t) = 2 d v (1 − exp(−t D / v)) + 2 d σ²`` (Uhlenbeck & Ornstein 1930).

    Parameters
    ----------
    lag_time : array_like of float
        Lag times, s (≥ 0).
    diffusion : float
        ``D``, length²/s.
    trap_variance : float
        ``v = k_B T / k`` per coordinate, length².
    dims : int, default 2
    sigma : float, default 0
        Localisation error per coordinate, length.

    Returns
    -------
    ndarray of float, shape of ``lag_time``
        MSD, length².
    """
    t = np.asarray(lag_time, dtype=float)
    return 2 * dims * trap_variance * (1 - np.exp(-t * diffusion / trap_variance)) + 2 * dims * sigma**2


def simulate_tracks(populations: Sequence[Population], *, n_frames: int | tuple[int, int] = 200,
                    frame_interval: float = 0.01, sigma: float = 0.0, field: float = 100.0,
                    seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """Simulate 2D tracks of several populations.

    Parameters
    ----------
    populations : sequence of Population
        At least one; names must differ.
    n_frames : int or (int, int), default 200
        Positions per track (≥ 2): a fixed number, or drawn uniformly from ``low … high``
        (inclusive) per track. With varying lengths each track starts at a frame drawn uniformly
        from ``0 … high − length``.
    frame_interval : float, default 0.01
        Time between frames ``Δt``, s (> 0).
    sigma : float, default 0
        Static localisation error per coordinate, length (≥ 0).
    field : float, default 100
        Starting positions (free) and trap centres are uniform in ``[0, field)²``, length (> 0).
    seed : int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        Columns ``frame`` (int), ``x, y`` (length, with noise), ``particle`` (int, 0 … n − 1,
        numbered through the populations in order) and ``population`` (the population's name);
        sorted by particle, then frame.

    Raises
    ------
    ValueError
        No populations, duplicate names, or a bad ``n_frames``, ``frame_interval``, ``sigma`` or
        ``field``.
    """
    populations = list(populations)
    if not populations:
        raise ValueError("give at least one Population to simulate")
    names = [p.name for p in populations]
    if len(set(names)) != len(names):
        raise ValueError(f"population names must differ; got {names}")
    low, high = (n_frames, n_frames) if np.isscalar(n_frames) else n_frames
    if int(low) != low or int(high) != high or not 2 <= low <= high:
        raise ValueError(f"n_frames must be an integer >= 2 or (low, high) with 2 <= low <= high; got {n_frames!r}")
    for name, value in (("frame_interval", frame_interval), ("field", field)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0 (length); got {sigma!r}")
    rng = np.random.default_rng(seed)
    tables, first = [], 0
    for population in populations:
        n = population.n_tracks
        lengths = rng.integers(int(low), int(high) + 1, size=n)
        starts = rng.integers(0, int(high) - lengths + 1)
        path = _paths(population, int(high), frame_interval, field, n, rng)
        path += sigma * rng.standard_normal(path.shape)
        keep = np.arange(int(high))[None, :] < lengths[:, None]
        particle, step = np.nonzero(keep)
        tables.append(pd.DataFrame({"frame": (starts[particle] + step).astype(np.int64),
                                    "x": path[particle, step, 0], "y": path[particle, step, 1],
                                    "particle": (first + particle).astype(np.int64),
                                    "population": population.name}))
        first += n
    return pd.concat(tables, ignore_index=True)


def _paths(population: Population, length: int, dt: float, field: float, n: int,
           rng: np.random.Generator) -> np.ndarray:
    """True positions, shape (n, length, 2), of ``n`` particles of one population."""
    centre = rng.uniform(0.0, field, size=(n, 1, 2))
    noise = rng.standard_normal((n, length, 2))
    if population.trap_variance is None:
        noise[:, 0] = 0.0
        return centre + math.sqrt(2 * population.diffusion * dt) * np.cumsum(noise, axis=1)
    v = population.trap_variance
    decay = math.exp(-dt / population.relaxation_time)
    kick = math.sqrt(v * (1 - decay**2))
    offset = np.empty((n, length, 2))
    offset[:, 0] = math.sqrt(v) * noise[:, 0]
    for i in range(1, length):
        offset[:, i] = decay * offset[:, i - 1] + kick * noise[:, i]
    return centre + offset
