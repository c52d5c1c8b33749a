"""One check of a hologram image for every step that takes one (detectors, the pipeline)."""

from __future__ import annotations

import numpy as np

__all__ = ["CNN_MIN_SIDE", "checked_image"]

#: Least side (px) of a frame the CNN detector takes: smaller frames cannot hold a particle's rings.
CNN_MIN_SIDE = 64


def checked_image(image: object, min_side: int, what: str = "the image") -> np.ndarray:
    """``image`` as a finite 2D float array of at least ``min_side`` px a side.

    Parameters
    ----------
    image : array-like, shape (rows, columns)
        A normalised hologram.
    min_side : int
        Fewest pixels along each side.
    what : str, default "the image"
        How the messages name it.

    Returns
    -------
    ndarray of float, shape (rows, columns)

    Raises
    ------
    ValueError
        Not numbers, not one 2D image, too small, or NaN or infinite pixels; the message says
        which and what is allowed.
    """
    try:
        array = np.asarray(image, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a 2D array of numbers; got {type(image).__name__}") from None
    if array.ndim != 2:
        raise ValueError(f"{what} must be one image (rows, columns), 2D; got shape {array.shape}")
    if min(array.shape) < min_side:
        raise ValueError(f"{what} is {array.shape[0]}×{array.shape[1]} px; at least {min_side}×{min_side} px are "
                         "needed")
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise ValueError(f"{what} has {bad} NaN or infinite pixel{'s' if bad != 1 else ''}")
    return array
