"""Bonded grips: the plate's top and bottom edges held through a thin elastic layer (springs).

A grip that clamps the edge (``u`` prescribed) forces one displacement on the soft and stiff
blocks of a checkerboard's first and last rows; the bimaterial corners at that rigid edge carry
singular stresses and start cracks along the grips (see "Grips" in :mod:`fem.fracture`). A
real plate is glued or gripped through a layer of finite stiffness. Here a thin elastic layer
of thickness ``T`` between the edge and a rigid grip is modelled as a bed of independent springs
(the thin-layer limit of a bonded interphase, the spring-layer interface of Hashin, J. Mech. Phys.
Solids 50, 2509 (2002)): the traction on the edge is ``k (u_grip - u)`` with normal stiffness
``k_n = E' / T`` (the layer strained along its thickness, held laterally by the plate and the
grip, free through the plate's thickness: ``E' = E / (1 - ν²)``, for either 2D model of the plate)
and tangential stiffness ``k_t = μ / T``. The tractions are then bounded by ``k`` times the displacement jump,
so no corner of the edge is singular.

Nodal springs are lumped: each edge node gets ``k`` times its tributary length of the edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fem.mesh_quad import QuadGrid

__all__ = ["GripLayer", "ADHESIVE", "BOND_CONTRAST", "bond_layer", "edge_springs", "bond_damage_sink", "held_dofs"]


@dataclass(frozen=True)
class GripLayer:
    """The elastic layer between a plate edge and its rigid grip.

    Parameters
    ----------
    thickness : float
        Layer thickness ``T`` (mm), > 0.
    E : float
        Young's modulus of the layer (MPa), > 0.
    nu : float
        Poisson's ratio of the layer, in (-1, 0.5).

    Raises
    ------
    ValueError
        A value outside those ranges.
    """

    thickness: float
    E: float
    nu: float

    def __post_init__(self) -> None:
        for name in ("thickness", "E"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"grip layer {name} must be a finite number > 0, got {value!r}")
        if not -1.0 < self.nu < 0.5:
            raise ValueError(f"grip layer nu must lie in (-1, 0.5), got {self.nu!r}")

    @property
    def stiffness(self) -> tuple[float, float]:
        """``(k_n, k_t)``: normal and tangential stiffness per unit area of edge (N/mm³)."""
        return self.E / (1.0 - self.nu ** 2) / self.thickness, self.E / (2.0 * (1.0 + self.nu)) / self.thickness


#: The bond of the plates of :mod:`fem.fracture` with the default phases: 1/64 mm of a layer as stiff
#: as the soft phase (E = 100 MPa, ν = 0.33), ``k_n`` = 7.2e3 and ``k_t`` = 2.4e3 N/mm³.
ADHESIVE = GripLayer(thickness=1.0 / 64.0, E=100.0, nu=0.33)
#: The stiffest phase of a plate is this many times as stiff as its bond (1000 / 100 MPa for the
#: default phases): :func:`bond_layer`.
BOND_CONTRAST = 10.0


def bond_layer(stiffest_E: float) -> GripLayer:
    """The bond of a plate whose stiffest phase has Young's modulus ``stiffest_E`` (MPa).

    :data:`ADHESIVE`'s thickness and ν with a modulus of ``stiffest_E / BOND_CONTRAST``: the bond
    scales with the plate, so a plate of moduli ``k`` times larger is ``k`` times stiffer and has
    the same stress intensity per unit stress, as a clamped one does. A bond of fixed modulus
    would cap the stiffness of stiff plates (a 70 GPa plate at about 3.4 GPa) and make the labels
    describe the bond.

    Raises
    ------
    ValueError
        ``stiffest_E`` not a finite number > 0.
    """
    return GripLayer(ADHESIVE.thickness, stiffest_E / BOND_CONTRAST, ADHESIVE.nu)


def edge_springs(grid: QuadGrid, layer: GripLayer, mode: str, top_free_y: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Spring stiffness of every displacement DOF and the load of a unit grip displacement.

    The bottom grip stays put; the top grip moves by ``t`` in y (mode I) or x (mode II). The
    linear system of the plate with stiffness ``K`` is ``(K + diag(s)) u = t f``, and the grip
    force (N/mm per unit thickness) is ``f · (t - u)`` summed over the loaded DOFs, i.e.
    ``t sum(f) - f @ u``.

    Parameters
    ----------
    grid : QuadGrid
        The plate mesh; its top and bottom edges are bonded.
    layer : GripLayer
        The bond.
    mode : {"I", "II"}
        Direction of the top grip's displacement.
    top_free_y : bool
        Mode II: the top grip does not hold the edge in y (no normal springs on top).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``s`` (N/mm, one per DOF, 0 off the edges) and ``f`` (N/mm per mm of grip displacement:
        the springs of the top edge along the load).
    """
    if mode not in ("I", "II"):
        raise ValueError(f"mode must be 'I' or 'II', got {mode!r}")
    kn, kt = layer.stiffness
    s = np.zeros(2 * grid.nnode)
    f = np.zeros_like(s)
    for edge, top in ((grid.ys[0], False), (grid.ys[-1], True)):
        nodes, w = grid.edge_nodes(edge)
        s[2 * nodes] = kt * w
        s[2 * nodes + 1] = 0.0 if top and top_free_y else kn * w
        if top:
            comp = 1 if mode == "I" else 0
            f[2 * nodes + comp] = s[2 * nodes + comp]
    return s, f


def bond_damage_sink(grid: QuadGrid, gc: np.ndarray) -> np.ndarray:
    """Damage stiffness of the bonds on the top and bottom edges, per element and node (N/mm, lumped).

    The bond does not crack: nothing drives its damage, so damage that reaches the edge decays
    into it as ``d0 exp(-s/ℓ)`` (the AT2 profile with no driving force), which stores
    ``G_c d0² / 2`` per unit length of edge (``∫ G_c/(2ℓ) (d² + ℓ² d'²) ds``) with the toughness
    of the adjacent element. Its variation adds ``G_c w_i`` to the diagonal of the damage
    equation at an edge node of tributary length ``w_i``: a Robin condition in place of the
    natural one, so a crack cannot run along a bonded edge as freely as along a free one. Each
    element on an edge gives half its edge length times its ``G_c`` to each of its two nodes there,
    so the sink adds to the diagonal of the element damage matrices.

    Parameters
    ----------
    grid : QuadGrid
        The plate mesh.
    gc : numpy.ndarray
        Fracture toughness per element (N/mm), shape ``(nelem,)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(nelem, 4)``, in the local node order of ``grid.conn``; zero off the top and
        bottom edges.
    """
    y = grid.coords[grid.conn, 1]
    on_edge = np.isclose(y, grid.ys[0]) | np.isclose(y, grid.ys[-1])
    return on_edge * (0.5 * np.asarray(gc, float) * grid.dx)[:, None]


def held_dofs(grid: QuadGrid, ends: str, top_free_y: bool = False, side_rollers: bool = False) -> np.ndarray:
    """The degrees of freedom (``2 * node + component``) held by the supports of the edge-cracked plate.

    Parameters
    ----------
    grid : QuadGrid
        Mesh of the plate.
    ends : {"bonded", "clamped", "traction"}
        ``"bonded"``: the grips hold the top and bottom edges through springs
        (:func:`edge_springs`), so no edge DOF is held; ``"clamped"``: the bottom edge is fixed
        and the top edge's ``u_x`` and, unless ``top_free_y``, ``u_y`` are held (prescribed by
        the load); ``"traction"``: free ends, the three point supports that remove the rigid
        motions (the right bottom corner in x and y, the right top corner in x).
    top_free_y : bool
        Clamped ends: leave the top edge free in y (the mode-II plates of :mod:`fem.fracture`).
    side_rollers : bool
        Also hold the left and right edges at ``u_y = 0`` (Miehe's shear test); not with traction ends.

    Returns
    -------
    numpy.ndarray
        Sorted DOF indices, int64.

    Raises
    ------
    ValueError
        Unknown ``ends``, or side rollers with traction ends.
    """
    x, y = grid.coords[:, 0], grid.coords[:, 1]
    bottom = np.flatnonzero(np.isclose(y, grid.ys[0]))
    top = np.flatnonzero(np.isclose(y, grid.ys[-1]))
    if ends == "traction":
        if side_rollers:
            raise ValueError("traction ends take no side rollers (uniform tension of the top and bottom edges)")
        return np.array(sorted({2 * bottom[np.argmax(x[bottom])], 2 * bottom[np.argmax(x[bottom])] + 1,
                                2 * top[np.argmax(x[top])]}), dtype=np.int64)
    if ends not in ("bonded", "clamped"):
        raise ValueError(f"ends must be 'bonded', 'clamped' or 'traction', got {ends!r}")
    parts = [2 * np.flatnonzero(np.isclose(x, grid.xs[0]) | np.isclose(x, grid.xs[-1])) + 1] if side_rollers else []
    if ends == "clamped":
        parts += [2 * bottom, 2 * bottom + 1, 2 * top] + ([] if top_free_y else [2 * top + 1])
    return np.unique(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
