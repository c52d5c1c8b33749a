"""Synthetic holograms with known particles: the ground truth for tests, training and the demo.

Like trackpy's ``artificial`` module: seeded random particles (uniform centres, radii, indices
and depths within given ranges), the normalised Lorenz–Mie hologram of each frame
(:func:`.hologram.hologram`) and additive Gaussian noise of standard deviation ``noise``
relative to the background (the normalised background is 1, so ``noise = 0.05`` is 5 %). The
true parameters come back as a table with the columns of :data:`.sphere.COLUMNS` (x, y in px;
z, a_p in µm; n_p), plus ``frame`` for several frames. Defaults are the ranges of issue 13:
a_p 0.4–2 µm, n_p 1.38–1.8, z_p 10–40 µm.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .hologram import frame_shape, hologram
from .instrument import Instrument
from .sphere import COLUMNS, spheres_from_table

__all__ = ["random_spheres", "synthetic_frame", "synthetic_frames"]


def random_spheres(count: int, shape: tuple[int, int], *, a_range: tuple[float, float] = (0.4, 2.0),
                   n_range: tuple[float, float] = (1.38, 1.8), z_range: tuple[float, float] = (10.0, 40.0),
                   margin: float = 0.0, min_separation: float = 0.0,
                   seed: int | np.random.Generator = 0) -> pd.DataFrame:
    """Table of ``count`` random spheres in an image of ``shape``.

    Parameters
    ----------
    count : int
        Number of spheres, ≥ 0.
    shape : (int, int)
        Image size (rows, columns), px.
    a_range, n_range, z_range : (float, float)
        Uniform ranges of the radius (µm), real refractive index and depth (µm from the focal
        plane); ``low ≤ high``, ``z_range[0] > a_range[1]`` (the focal plane outside every
        sphere).
    margin : float, default 0
        Centres lie at least ``margin`` px inside the image edges (pixel centres span
        ``0 … shape − 1``).
    min_separation : float, default 0
        Least in-plane distance between centres, px (drawn by rejection).
    seed : int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        Columns ``x, y`` (px), ``z, a_p`` (µm), ``n_p``; one row per sphere.

    Raises
    ------
    ValueError
        Bad counts, ranges or margins, or no room for ``count`` centres ``min_separation`` apart.
    """
    rng = np.random.default_rng(seed)
    count = int(count)
    rows, cols = frame_shape(shape)
    for name, (low, high) in (("a_range", a_range), ("n_range", n_range), ("z_range", z_range)):
        if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
            raise ValueError(f"{name} must be (low, high) with 0 < low <= high; got {(low, high)}")
    if z_range[0] <= a_range[1]:
        raise ValueError(f"z_range must start above the largest radius ({a_range[1]} µm) so that the focal "
                         f"plane lies outside every sphere; got {z_range}")
    if count < 0 or margin < 0 or min_separation < 0:
        raise ValueError(f"count, margin and min_separation must be >= 0; got {count}, {margin}, {min_separation}")
    if 2 * margin > min(rows, cols) - 1:
        raise ValueError(f"margin {margin} px leaves no room in an image of shape {(rows, cols)}")
    centres = np.empty((count, 2))
    placed = 0
    for _ in range(100 * count + 1000):
        if placed == count:
            break
        c = rng.uniform([margin, margin], [cols - 1 - margin, rows - 1 - margin])
        if placed and np.min(np.hypot(*(centres[:placed] - c).T)) < min_separation:
            continue
        centres[placed] = c
        placed += 1
    if placed < count:
        raise ValueError(f"could not place {count} centres {min_separation} px apart in {(rows, cols)} "
                         f"with margin {margin} px")
    return pd.DataFrame({"x": centres[:, 0], "y": centres[:, 1], "z": rng.uniform(*z_range, count),
                         "a_p": rng.uniform(*a_range, count), "n_p": rng.uniform(*n_range, count)},
                        columns=list(COLUMNS))


def synthetic_frame(shape: tuple[int, int], instrument: Instrument, *, particles: int | tuple[int, int] = 4,
                    noise: float = 0.05, alpha: float = 1.0, full_field: bool = False,
                    seed: int | np.random.Generator = 0, **ranges: object) -> tuple[np.ndarray, pd.DataFrame]:
    """One noisy hologram with random particles and its truth table.

    Parameters
    ----------
    shape : (int, int)
        Image size (rows, columns), px.
    instrument : Instrument
    particles : int or (int, int), default 4
        ``k``: a number of particles drawn uniformly from ``0 … k``; ``(low, high)``: from
        ``low … high`` (inclusive).
    noise : float, default 0.05
        Standard deviation of the additive Gaussian noise, relative to the background (≥ 0).
    alpha : float, default 1
        Scale of the scattered fields (:func:`.hologram.hologram`).
    full_field : bool, default False
        As :func:`.hologram.hologram`.
    seed : int or numpy.random.Generator
    **ranges
        ``a_range, n_range, z_range, margin, min_separation`` of :func:`random_spheres`.

    Returns
    -------
    image : ndarray of float, shape ``shape``
        Normalised hologram plus noise (background ≈ 1).
    table : pandas.DataFrame
        The particles drawn (columns ``x, y, z, a_p, n_p``).

    Raises
    ------
    ValueError
        Bad ``particles`` or ``noise``, or as :func:`random_spheres` and :func:`.hologram.hologram`.
    """
    rng = np.random.default_rng(seed)
    low, high = (0, particles) if np.isscalar(particles) else particles
    if not 0 <= int(low) <= int(high):
        raise ValueError(f"particles must be k >= 0 or (low, high) with 0 <= low <= high; got {particles!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0 (relative to the background); got {noise!r}")
    table = random_spheres(int(rng.integers(int(low), int(high) + 1)), shape, seed=rng, **ranges)
    image = hologram(shape, spheres_from_table(table), instrument, alpha=alpha, full_field=full_field)
    if noise > 0:
        image = image + rng.normal(0.0, noise, image.shape)
    return image, table


def synthetic_frames(count: int, shape: tuple[int, int], instrument: Instrument, *,
                     seed: int | np.random.Generator = 0, **options: object) -> tuple[np.ndarray, pd.DataFrame]:
    """Several frames of :func:`synthetic_frame`, drawn from one seeded generator.

    Parameters
    ----------
    count : int
        Number of frames, ≥ 1.
    shape : (int, int)
    instrument : Instrument
    seed : int or numpy.random.Generator
    **options
        Keywords of :func:`synthetic_frame`.

    Returns
    -------
    images : ndarray of float, shape (count, rows, columns)
    table : pandas.DataFrame
        Columns ``frame, x, y, z, a_p, n_p``.

    Raises
    ------
    ValueError
        ``count < 1`` or as :func:`synthetic_frame`.
    """
    if int(count) < 1:
        raise ValueError(f"count must be at least 1; got {count!r}")
    rng = np.random.default_rng(seed)
    images, tables = [], []
    for frame in range(int(count)):
        image, table = synthetic_frame(shape, instrument, seed=rng, **options)
        images.append(image)
        tables.append(table.assign(frame=frame))
    table = pd.concat(tables, ignore_index=True).loc[:, ["frame", *COLUMNS]]
    return np.stack(images), table

