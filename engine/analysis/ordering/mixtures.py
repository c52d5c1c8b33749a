"""Systems with two structures and their true per-particle labels.

* :func:`slab_in_liquid` — a crystal slab (normal to z) surrounded by liquid at the crystal's
  density. The crystal particles are kept fixed while liquid particles, placed at random in the
  rest of the box, have their overlaps removed (:func:`.liquids.remove_overlaps`) — the same
  recipe as :func:`.liquids.liquid`, with moves limited to 0.1 σ a step so that no liquid
  particle is thrown into the crystal. The slab is whole lattice layers (:func:`slab_layers`).
* :func:`stacking` — close-packed hexagonal layers stacked along z in a given sequence of
  A, B, C positions; ``"ABC"`` repeats give fcc (along [111]), ``"AB"`` repeats give hcp, and
  :func:`fcc_hcp` joins an fcc block and an hcp block coherently in one periodic box. A layer
  whose two neighbouring layers sit on the same position (…ABA…) has hcp surroundings, one
  between two different positions (…ABC…) fcc surroundings, so the true label of every
  particle follows from the sequence (first neighbour shell), also at the two interfaces.
"""

from __future__ import annotations

import math

import freud
import numpy as np

from .lattices import lattice, lattice_sites, thermal_noise
from .liquids import remove_overlaps, sphere_diameter
from .systems import ParticleSystem

__all__ = ["slab_in_liquid", "slab_layers", "stacking", "stacking_labels", "fcc_hcp"]


def slab_layers(kind: str, n: int, slab_fraction: float) -> tuple[np.ndarray, int, int]:
    """Which lattice sites a whole-layer crystal slab holds (see :func:`slab_in_liquid`).

    Parameters
    ----------
    kind : str
        3D lattice (see :data:`.lattices.LATTICES`).
    n : int
        Unit cells per axis.
    slab_fraction : float
        Requested share of the box height, in (0, 1).

    Returns
    -------
    in_slab : ndarray of bool, shape (N,)
        Sites of the slab, in :func:`.lattices.lattice_sites` order.
    layers : int
        Layers of the slab, ``slab_fraction × total`` rounded half up, at least 1 and at most
        ``total − 1``.
    total : int
        Lattice layers normal to z in the box (sc ``n``; bcc, fcc, hcp ``2n``; diamond ``4n``).
    """
    if not 0 < slab_fraction < 1:
        raise ValueError(f"slab_fraction must lie in (0, 1), got {slab_fraction!r}")
    sites, _ = lattice_sites(kind, n)
    if sites.shape[1] != 3:
        raise ValueError(f"slab_in_liquid needs a 3D lattice, got {kind!r}")
    heights, layer_of = np.unique(np.round(sites[:, 2], 9), return_inverse=True)
    total = len(heights)
    if total < 2:
        raise ValueError(f"a {kind} slab needs at least 2 lattice layers along z (crystal and liquid); "
                         f"{n} cell(s) give {total}: use 2 cells or more")
    layers = min(max(math.floor(slab_fraction * total + 0.5), 1), total - 1)
    # the `layers` layers nearest z = 0 (on a tie the lower one): one contiguous block
    chosen = np.lexsort((heights, np.round(np.abs(heights), 9)))[:layers]
    return np.isin(layer_of.ravel(), chosen), layers, total


def slab_in_liquid(
    kind: str = "fcc",
    n: int = 6,
    *,
    slab_fraction: float = 0.5,
    nn_distance: float = 1.0,
    lindemann: float = 0.0,
    packing_fraction: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> ParticleSystem:
    """A crystal slab of whole lattice layers around ``z = 0`` in liquid of the same density.

    The slab is made of whole lattice layers normal to z (``slab_fraction`` of the box's layers,
    rounded half up; see :func:`slab_layers`): a cut through a layer would leave some of its
    particles, labelled crystal, isolated in the liquid. With 8 fcc cells (16 layers) and the
    fraction 0.55 the slab is 9 layers; with 6 cells and 0.5 it is 6.

    Parameters
    ----------
    kind : str
        3D lattice of the slab (see :data:`.lattices.LATTICES`).
    n : int
        Unit cells per axis of the crystal that fills the box before it is cut.
    slab_fraction : float, default 0.5
        Share of the box height taken by the crystal, in (0, 1); rounded to whole layers (at
        least one, and one layer at least left to the liquid).
    nn_distance, lindemann : float
        As in :func:`.lattices.lattice`.
    packing_fraction : float, optional
        Soft-sphere packing fraction of the liquid (default 0.45).
    seed : int or numpy.random.Generator or None
        Randomness (noise of the crystal, start of the liquid).

    Returns
    -------
    ParticleSystem
        The crystal's box and particle count; ``labels`` are ``kind`` in the slab and
        ``"liquid"`` outside (crystal particles first).

    Raises
    ------
    ValueError
        A slab fraction outside (0, 1), a 2D lattice, or a liquid layer too thin to hold its
        particles without overlaps at the crystal's density (thin boxes with a thick slab:
        e.g. 3 fcc cells and a slab fraction of 0.9: 5 of 6 layers).
    """
    in_slab, layers, total = slab_layers(kind, n, slab_fraction)
    rng = np.random.default_rng(seed)
    crystal = lattice(kind, n, nn_distance=nn_distance, lindemann=lindemann, seed=rng)
    lengths = np.asarray(crystal.box.L, dtype=float)
    slab = crystal.positions[in_slab]
    n_liquid = crystal.n_particles - len(slab)
    spacing = lengths[2] / total
    sites, _ = lattice_sites(kind, n, nn_distance=nn_distance)
    top = sites[in_slab, 2].max() + spacing / 2  # the slab's region: [bottom, top)
    start = rng.uniform(-0.5, 0.5, size=(n_liquid, 3)) * lengths
    # liquid starts in the liquid region, of height Lz - layers * spacing, above the slab
    start[:, 2] = top + rng.uniform(0.0, 1.0, n_liquid) * (lengths[2] - layers * spacing)
    pos = np.vstack([slab, start])
    mobile = np.r_[np.zeros(len(slab), bool), np.ones(n_liquid, bool)]
    sigma = sphere_diameter(crystal.density, 3, packing_fraction)
    try:
        pos = remove_overlaps(pos, lengths, sigma, mobile=mobile, max_move=0.1)
    except RuntimeError:
        gap = lengths[2] - (layers - 1) * spacing
        raise ValueError(
            f"the {n_liquid} liquid particles do not fit, at the crystal's density, into the "
            f"{gap:.3g}-thick gap between the slab's outer layers ({gap / sigma:.2g} particle "
            f"diameters); use more unit cells or a slab fraction that leaves a thicker liquid "
            f"layer (with {n} cells per axis, smaller slab fractions)") from None
    labels = np.r_[np.full(len(slab), kind), np.full(n_liquid, "liquid")]
    return ParticleSystem(pos, crystal.box, labels=labels)


def stacking_labels(sequence: str) -> list[str]:
    """True structure of each layer of a periodic close-packed stacking sequence.

    Parameters
    ----------
    sequence : str
        Layer positions, e.g. ``"ABCABCABAB"``; it repeats periodically.

    Returns
    -------
    list of str
        ``"hcp"`` where the layers below and above sit on the same position, else ``"fcc"``.
    """
    k = len(sequence)
    return ["hcp" if sequence[i - 1] == sequence[(i + 1) % k] else "fcc" for i in range(k)]


def stacking(
    sequence: str,
    n: int = 6,
    *,
    nn_distance: float = 1.0,
    lindemann: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> ParticleSystem:
    """Close-packed layers in the given A/B/C sequence, periodic along all three axes.

    Parameters
    ----------
    sequence : str
        Letters A, B, C; neighbours (cyclically) must differ, and the length is the number of
        layers, spaced ``nn_distance · √(2/3)`` apart.
    n : int
        In-plane orthorhombic cells (``a × √3 a``, two particles each) per axis.
    nn_distance, lindemann, seed
        As in :func:`.lattices.lattice`.

    Returns
    -------
    ParticleSystem
        ``2 n² · len(sequence)`` particles, layer by layer, labelled by
        :func:`stacking_labels`.
    """
    seq = sequence.upper()
    if len(seq) < 2 or set(seq) - set("ABC"):
        raise ValueError(f"sequence must be at least 2 letters from A, B, C, got {sequence!r}")
    if any(seq[i] == seq[(i + 1) % len(seq)] for i in range(len(seq))):
        raise ValueError(
            f"neighbouring layers of sequence {sequence!r} (cyclically, last to first) must sit "
            "on different positions"
        )
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    a = nn_distance
    shift = {"A": np.zeros(2), "B": np.array([a / 2, a * math.sqrt(3) / 6]),
             "C": np.array([a, a * math.sqrt(3) / 3])}
    grid = np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1).reshape(-1, 2)
    cell = np.array([a, a * math.sqrt(3)])
    plane = ((grid[:, None, :] + np.array([[0.0, 0.0], [0.5, 0.5]])) * cell).reshape(-1, 2)
    dz = a * math.sqrt(2.0 / 3.0)
    lengths = np.array([n * cell[0], n * cell[1], len(seq) * dz])
    layers = [np.column_stack([plane + shift[s], np.full(len(plane), k * dz)])
              for k, s in enumerate(seq)]
    sites = np.vstack(layers) - lengths / 2
    labels = np.repeat(stacking_labels(seq), len(plane))
    noise = thermal_noise(len(sites), 3, lindemann, nn_distance, seed)
    return ParticleSystem(sites + noise, freud.box.Box(*lengths), labels=labels)


def fcc_hcp(
    n: int = 6,
    *,
    fcc_layers: int = 12,
    hcp_layers: int = 12,
    nn_distance: float = 1.0,
    lindemann: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> ParticleSystem:
    """An fcc block (ABC…) and an hcp block (AB…) joined coherently along z.

    Parameters
    ----------
    n : int
        In-plane cells per axis (see :func:`stacking`).
    fcc_layers : int, default 12
        Layers of the fcc block, a multiple of 3.
    hcp_layers : int, default 12
        Layers of the hcp block, an even number ≥ 2.
    nn_distance, lindemann, seed
        As in :func:`.lattices.lattice`.

    Returns
    -------
    ParticleSystem
        Labels from :func:`stacking_labels`: the two layers on either side of each interface
        take the structure their neighbours give them (with 12 + 12 layers: 12 fcc and 12 hcp,
        the first A layer of the fcc block being hcp).
    """
    if fcc_layers < 3 or fcc_layers % 3:
        raise ValueError(f"fcc_layers must be a positive multiple of 3, got {fcc_layers!r}")
    if hcp_layers < 2 or hcp_layers % 2:
        raise ValueError(f"hcp_layers must be an even number >= 2, got {hcp_layers!r}")
    sequence = "ABC" * (fcc_layers // 3) + "AB" * (hcp_layers // 2)
    # "ABC...ABC" + "AB...AB" ends on B and wraps to A: valid and periodic.
    return stacking(sequence, n, nn_distance=nn_distance, lindemann=lindemann, seed=seed)
