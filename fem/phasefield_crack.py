"""Where the damage of a slit plate has gone: node-grid damage, crack bands, through cracks.

A *band* is a connected region (8-neighbour nodes) of the node grid where the damage exceeds
``threshold`` (0.9: a crack of the AT2 model, whose profile is ``d = exp(-|x|/ℓ)``, is about
0.2ℓ wide at that level). The crack from the notch has run *through* once the band that holds
a node within ``radius`` (ℓ) of the notch tip also holds a node within ``radius`` of the plate
boundary: the regularised crack is about 2ℓ wide, so a band that close has cut the ligament to
the edge. Used as an end of test by :mod:`fem.phasefield` (mode II of :mod:`fem.fracture`), and
to tell how a labelled plate failed (:func:`crack_path`: from the tip to an edge, along a grip).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from fem.mesh_quad import QuadGrid

__all__ = ["BAND_THRESHOLD", "FAILURE_LEVEL", "GRIP_BAND_ELLS", "node_damage", "crack_bands",
           "tip_band_reaches_an_edge", "grip_bands", "grip_band_lengths", "CrackPath", "crack_path", "ThroughCrack"]

#: Damage above which a node belongs to a crack band.
BAND_THRESHOLD = 0.9
#: Damage level of a band when telling how a labelled plate failed, per loading mode: mode II runs on
#: to the through crack (0.9); mode I ends once the stress is below 10 % of its peak, when the AT2
#: band is not yet fully formed (0.5).
FAILURE_LEVEL = {"I": 0.5, "II": BAND_THRESHOLD}
#: A band runs *along a grip* when it lies within ℓ of it over more than this many ℓ (a crack that
#: crosses to a grip at 45° covers about 3ℓ).
GRIP_BAND_ELLS = 4.0


def node_damage(grid: QuadGrid, damage: np.ndarray) -> np.ndarray:
    """Nodal damage on the ``(ny+1, nx+1)`` node grid, row 0 at the bottom.

    Parameters
    ----------
    grid : QuadGrid
        The mesh; the copies of the crack-face nodes are numbered after the grid nodes.
    damage : numpy.ndarray
        Damage of every node of ``grid`` (``grid.nnode``).

    Returns
    -------
    numpy.ndarray
        Shape ``(ny + 1, nx + 1)``; on the crack faces the larger damage of the two.
    """
    ny, nx = grid.shape
    n = (nx + 1) * (ny + 1)
    dam = damage[:n].reshape(ny + 1, nx + 1).copy()
    tip = grid.crack_tip
    if damage.size > n:
        dam[grid.crack_row, :tip] = np.maximum(dam[grid.crack_row, :tip], damage[n:])
    return dam


def crack_bands(dam: np.ndarray, threshold: float = BAND_THRESHOLD) -> np.ndarray:
    """Bands of ``dam > threshold`` (8-neighbour), labelled 1, 2, ... on the node grid (0 elsewhere)."""
    return ndimage.label(dam > threshold, structure=np.ones((3, 3)))[0]


def tip_band_reaches_an_edge(dam: np.ndarray, x: np.ndarray, y: np.ndarray, tip: tuple[float, float], radius: float,
                             threshold: float = BAND_THRESHOLD) -> bool:
    """Whether one band holds a node within ``radius`` of the crack tip and one within ``radius`` of
    the plate boundary farther than ``2 radius`` from the tip (as :class:`ThroughCrack`: the damage
    at the tip of a notch shorter than 2ℓ is no crack to an edge).

    Parameters
    ----------
    dam : numpy.ndarray
        Damage on the ``(len(y), len(x))`` node grid (:func:`node_damage`).
    x, y : numpy.ndarray
        Node coordinates of the grid (mm).
    tip : (float, float)
        Crack tip (mm).
    radius : float
        Distance (mm), usually ℓ.
    threshold : float
        Damage level of a band.
    """
    return _joins(crack_bands(dam, threshold), *_tip_and_edge(x, y, tip, radius))


def _tip_and_edge(x: np.ndarray, y: np.ndarray, tip: tuple[float, float], radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Node masks: within ``radius`` of the tip; within ``radius`` of the boundary and farther than
    ``2 radius`` from the tip (the damage at the tip of a notch shorter than 2ℓ reaches no edge)."""
    X, Y = np.meshgrid(x, y)
    from_tip = np.hypot(X - tip[0], Y - tip[1])
    gap = np.minimum(np.minimum(X - x[0], x[-1] - X), np.minimum(Y - y[0], y[-1] - Y))
    reach = radius * (1 + 1e-9)
    return from_tip <= reach, (gap <= reach) & (from_tip > 2 * radius)


def _joins(bands: np.ndarray, tip: np.ndarray, edge: np.ndarray) -> bool:
    """Whether one band holds a node of the ``tip`` mask and one of the ``edge`` mask."""
    held = np.unique(bands[tip & (bands > 0)])
    return bool(np.isin(held, bands[edge]).any())


def grip_bands(dam: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float,
               threshold: float = BAND_THRESHOLD) -> list[tuple[str, float]]:
    """The bands that come within ``radius`` of the top or bottom edge (the grips): which edge, and
    their length along it (mm).

    A band counts over the x positions of its nodes within ``radius`` of the edge, in unbroken runs
    of node columns (a band that touches a grip at two places far apart runs along it at neither):
    a crack that crosses to a grip at 45° covers about 3ℓ for ``radius`` ℓ, one that runs along the
    grip its whole path there. One entry per band and edge, ``("bottom" | "top", length)``, the
    length of its longest run.

    Parameters
    ----------
    dam, x, y, radius, threshold
        As for :func:`tip_band_reaches_an_edge`.
    """
    return _grip_bands(crack_bands(dam, threshold), x, y, radius)


def _grip_bands(bands: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float) -> list[tuple[str, float]]:
    X, Y = np.meshgrid(x, y)
    out = []
    for edge, near in (("bottom", Y <= y[0] + radius * (1 + 1e-9)), ("top", Y >= y[-1] - radius * (1 + 1e-9))):
        for band in np.unique(bands[near & (bands > 0)]):
            columns = np.unique(np.nonzero(near & (bands == band))[1])
            runs = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)
            out.append((edge, max(float(x[run[-1]] - x[run[0]]) for run in runs)))
    return out


def grip_band_lengths(dam: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float,
                      threshold: float = BAND_THRESHOLD) -> list[float]:
    """The lengths (mm) of :func:`grip_bands`, without their edges."""
    return [length for _, length in grip_bands(dam, x, y, radius, threshold)]


@dataclass(frozen=True)
class CrackPath:
    """How a labelled plate failed, read from its damage at the end (:func:`crack_path`).

    Attributes
    ----------
    level : float
        Damage level of a band.
    at_tip : bool
        A band holds a node within ℓ of the notch tip.
    tip_to_edge : bool
        That band also reaches the plate boundary (within ℓ, farther than 2ℓ from the tip).
    grip_edge : str or None
        ``"bottom"`` or ``"top"``: the grip along which the longest stretch of a band runs; None
        where no band comes near a grip.
    grip_length : float
        That stretch (mm): the x extent of the band's nodes within ℓ of the grip (of the border of
        a damage-free grip strip, where there is one).
    along_grip : bool
        ``grip_length`` exceeds :data:`GRIP_BAND_ELLS` ℓ: a band runs along a grip, so the plate
        failed there in part.
    """

    level: float
    at_tip: bool
    tip_to_edge: bool
    grip_edge: str | None
    grip_length: float
    along_grip: bool


def crack_path(dam: np.ndarray, x: np.ndarray, y: np.ndarray, tip: tuple[float, float], ell: float,
               level: float, grip_strip: float = 0.0) -> CrackPath:
    """Whether the bands of ``dam > level`` join the notch tip to an edge, and how far one runs along a grip.

    Parameters
    ----------
    dam : numpy.ndarray
        Damage on the ``(len(y), len(x))`` node grid at the end of a run (:func:`node_damage`).
    x, y : numpy.ndarray
        Node coordinates of the grid (mm).
    tip : (float, float)
        Notch tip (mm).
    ell : float
        Phase-field length (mm): the distance within which a band holds the tip, reaches an edge,
        or lies along a grip.
    level : float
        Damage level of a band (:data:`FAILURE_LEVEL` per loading mode).
    grip_strip : float
        Width (mm) of the damage-free strip along each grip, 0 for none: a band along its border counts.

    Returns
    -------
    CrackPath
    """
    bands = crack_bands(dam, level)
    near_tip, near_edge = _tip_and_edge(x, y, tip, ell)
    edge, length = max(_grip_bands(bands, x, y, grip_strip + ell), key=lambda band: band[1], default=(None, 0.0))
    return CrackPath(level=level, at_tip=bool((bands[near_tip] > 0).any()),
                     tip_to_edge=_joins(bands, near_tip, near_edge), grip_edge=edge,
                     grip_length=length, along_grip=length > GRIP_BAND_ELLS * ell)


class ThroughCrack:
    """Whether the crack from the notch tip has reached the plate boundary.

    Parameters
    ----------
    grid : QuadGrid
        The mesh, with its slit (``crack_row``, ``crack_tip``).
    radius : float
        A band holds the tip when one of its nodes lies within this distance (mm) of it, and
        reaches the boundary when one lies within this distance of an edge and farther than
        twice it from the tip (so that the damage at the tip of a notch shorter than 2ℓ is not
        taken for a through crack); the phase-field length ℓ.
    threshold : float
        Damage level of a band.
    """

    def __init__(self, grid: QuadGrid, radius: float, threshold: float = BAND_THRESHOLD) -> None:
        self.grid, self.threshold = grid, threshold
        self._tip, self._edge = _tip_and_edge(grid.xs, grid.ys, (grid.xs[grid.crack_tip], grid.ys[grid.crack_row]),
                                              radius)

    def __call__(self, damage: np.ndarray) -> bool:
        """True when a band holds the tip and reaches an edge; ``damage`` of every node of the grid."""
        return _joins(crack_bands(node_damage(self.grid, damage), self.threshold), self._tip, self._edge)
