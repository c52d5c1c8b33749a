"""The example tracks file of the app and the CLI: three populations with known truth, in pixels.

Two free Brownian populations, ``D`` = 0.05 and 0.5 µm²/s, and one diffusing with ``D`` = 0.2 µm²/s
in a harmonic trap of stationary variance 0.005 µm² per coordinate (relaxation time 25 ms), seen
with a 20 nm localisation error every 10 ms — the populations of the tests of
:mod:`.clustering` (must-show 4 of issue 13). Positions are written in px at ``pixel_size``
µm/px, as a microscope gives them, so that a user sets the pixel size and frame interval as for
real data.
"""

from __future__ import annotations

import pandas as pd

from .simulate import Population, simulate_tracks

__all__ = ["EXAMPLE_FIELD", "EXAMPLE_FRAME_INTERVAL", "EXAMPLE_PIXEL_SIZE", "EXAMPLE_SIGMA", "example_populations",
           "example_tracks"]

#: Pixel size of the example, µm/px.
EXAMPLE_PIXEL_SIZE = 0.1
#: Time between frames of the example, s.
EXAMPLE_FRAME_INTERVAL = 0.01
#: Localisation error per coordinate of the example, µm.
EXAMPLE_SIGMA = 0.02
#: Side of the square field of view of the example, µm.
EXAMPLE_FIELD = 50.0


def example_populations(n_tracks: int = 60) -> list[Population]:
    """The three populations in µm and s: slow free, trapped, fast free (``n_tracks`` each, ≥ 1)."""
    return [Population("slow", n_tracks, 0.05), Population("trapped", n_tracks, 0.2, trap_variance=0.005),
            Population("fast", n_tracks, 0.5)]


def example_tracks(*, n_tracks: int = 60, n_frames: int | tuple[int, int] = (50, 300),
                   pixel_size: float = EXAMPLE_PIXEL_SIZE, frame_interval: float = EXAMPLE_FRAME_INTERVAL,
                   sigma: float = EXAMPLE_SIGMA, seed: int = 0) -> pd.DataFrame:
    """Seeded tracks of :func:`example_populations`, positions in px.

    Parameters
    ----------
    n_tracks : int, default 60
        Tracks per population (≥ 1).
    n_frames : int or (int, int), default (50, 300)
        Positions per track, fixed or drawn per track (:func:`.simulate.simulate_tracks`).
    pixel_size : float, default 0.1
        µm/px of the written positions (> 0).
    frame_interval : float, default 0.01
        s (> 0).
    sigma : float, default 0.02
        Localisation error per coordinate, µm (≥ 0).
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        Columns ``frame, x, y`` (px), ``particle`` and ``population`` (the true population:
        ``slow``, ``trapped`` or ``fast``).

    Raises
    ------
    ValueError
        A bad count, ``n_frames``, ``pixel_size``, ``frame_interval`` or ``sigma``.
    """
    if not (isinstance(pixel_size, int | float) and pixel_size > 0 and pixel_size < float("inf")):
        raise ValueError(f"pixel_size must be a finite number > 0 (µm/px); got {pixel_size!r}")
    if not (isinstance(sigma, int | float) and 0 <= sigma < float("inf")):
        raise ValueError(f"sigma must be a finite number >= 0 (µm); got {sigma!r}")
    scale = 1.0 / pixel_size**2
    populations = [Population(p.name, p.n_tracks, p.diffusion * scale,
                              None if p.trap_variance is None else p.trap_variance * scale)
                   for p in example_populations(n_tracks)]
    return simulate_tracks(populations, n_frames=n_frames, frame_interval=frame_interval, sigma=sigma / pixel_size,
                           field=EXAMPLE_FIELD / pixel_size, seed=seed)
