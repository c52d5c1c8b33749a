"""Fast fidelity: one linear solve, effective stiffness and the J-integral at the crack tip.

``J`` is computed with the equivalent domain integral (Shih, Moran & Nakamura 1986)::

    J = int_A (sigma_ij du_i/dx_1 - W delta_1j) dq/dx_j dA,

with ``q = 1`` on a square of half-width ``R/2`` around the tip falling linearly to 0 at
half-width ``R`` (crack faces are traction-free, so no face term). In a homogeneous plate
``K_I = sqrt(J E')`` with ``E' = E`` (plane stress) or ``E/(1-nu²)`` (plane strain). In a
composite the domain is kept small (default 4 tip elements); interfaces across the crack line
inside the domain make it an approximation, good enough for pre-training labels.

A tip on a straight interface between two phases (the crack plane between two block rows) is an
interface crack: with Dundurs' ``β`` and the oscillation index ``ε = ln((1-β)/(1+β)) / (2π)``,
``G = (1 - β²) |K|² / E*``, ``1/E* = (1/E₁' + 1/E₂')/2`` (Hutchinson & Suo, "Mixed mode cracking
in layered materials", Adv. Appl. Mech. 29, 63–191 (1992), Sec. 2; Rice, J. Appl.
Mech. 55, 98–103 (1988)), so
``|K| = sqrt(G E*) cosh(π ε)`` since ``cosh²(π ε) = 1/(1 - β²)``
(:func:`interface_stress_intensity`). It is symmetric in the two phases, so a design and its
mirror image about the crack plane get the same ``|K|``; with one phase it is ``sqrt(G E')``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from fem.elements import elastic_type_matrices
from fem.grips import GripLayer, edge_springs, held_dofs
from fem.interrupt import Heartbeat
from fem.linsolve import SPDFactor
from fem.materials import Material
from fem.mesh_quad import QuadGrid, graded_axis

__all__ = [
    "tada_edge_crack_factor",
    "tada_edge_crack_k",
    "dundurs_beta",
    "interface_modulus",
    "interface_stress_intensity",
    "LinearCrackSolution",
    "solve_linear_crack",
    "edge_crack_k",
    "interface_crack_k",
]


def tada_edge_crack_factor(a_over_w: float) -> float:
    """Tada handbook geometry factor of a single edge crack in a strip under tension.

    ``F(α) = 0.265 (1-α)^4 + (0.857 + 0.265 α) / (1-α)^{3/2}`` (better than 1 % for any α).
    """
    a = float(a_over_w)
    if not 0 < a < 1:
        raise ValueError(f"a/W must lie in (0, 1), got {a_over_w!r}")
    return 0.265 * (1 - a) ** 4 + (0.857 + 0.265 * a) / (1 - a) ** 1.5


def tada_edge_crack_k(sigma: float, a: float, width: float) -> float:
    """Handbook ``K_I = sigma sqrt(pi a) F(a/W)`` (MPa·sqrt(mm) for MPa and mm)."""
    return sigma * math.sqrt(math.pi * a) * tada_edge_crack_factor(a / width)


def _kolosov(nu: float, plane: str) -> float:
    """Kolosov constant ``κ = 3 - 4ν`` (plane strain) or ``(3 - ν)/(1 + ν)`` (plane stress)."""
    if plane == "strain":
        return 3.0 - 4.0 * nu
    if plane == "stress":
        return (3.0 - nu) / (1.0 + nu)
    raise ValueError(f"plane must be 'stress' or 'strain', got {plane!r}")


def dundurs_beta(upper: Material, lower: Material, plane: str = "stress") -> float:
    """Dundurs' second parameter ``β`` of the bimaterial ``upper`` (1) / ``lower`` (2).

    ``β = [μ₁(κ₂ - 1) - μ₂(κ₁ - 1)] / [μ₁(κ₂ + 1) + μ₂(κ₁ + 1)]`` with shear moduli ``μ`` and
    Kolosov constants ``κ`` (Dundurs, J. Appl. Mech. 36, 650 (1969); Hutchinson & Suo 1992). Dimensionless,
    ``|β| < 1/2`` for positive Poisson ratios; swapping the phases changes its sign.
    """
    mu1, mu2 = upper.E / (2.0 * (1.0 + upper.nu)), lower.E / (2.0 * (1.0 + lower.nu))
    k1, k2 = _kolosov(upper.nu, plane), _kolosov(lower.nu, plane)
    return (mu1 * (k2 - 1.0) - mu2 * (k1 - 1.0)) / (mu1 * (k2 + 1.0) + mu2 * (k1 + 1.0))


def interface_modulus(upper: Material, lower: Material, plane: str = "stress") -> float:
    """``E* = 2 E₁' E₂' / (E₁' + E₂')`` (MPa), the harmonic mean of the plane moduli."""
    a, b = upper.plane_modulus(plane), lower.plane_modulus(plane)  # type: ignore[arg-type]
    return a if a == b else 2.0 * a * b / (a + b)


def interface_stress_intensity(G: float, upper: Material, lower: Material, plane: str = "stress") -> float:
    """``|K| = sqrt(G E*) cosh(π ε)`` of a crack tip on the interface of two phases.

    Parameters
    ----------
    G : float
        Energy release rate (N/mm, or N/mm per MPa² for ``G/σ²``), ``>= 0``.
    upper, lower : Material
        Phases above and below the crack plane ahead of the tip (the same phase: a tip inside
        one phase, ``|K| = sqrt(G E')``).
    plane : {"stress", "strain"}
        2D constitutive assumption of ``E'`` and ``κ``.

    Returns
    -------
    float
        ``|K| = sqrt(K₁² + K₂²)`` (MPa·√mm, or √mm for ``G/σ²``), from
        ``G = (1 - β²) |K|² / E*`` (Hutchinson & Suo 1992); ``cosh(π ε) = 1/sqrt(1 - β²)`` is
        evaluated in the second form, which is exactly symmetric in the two phases.
    """
    beta = dundurs_beta(upper, lower, plane)
    return math.sqrt(max(G, 0.0) * interface_modulus(upper, lower, plane) / (1.0 - beta * beta))


class LinearCrackSolution:
    """Displacement field of one linear solve and its J-integral.

    Attributes
    ----------
    u : numpy.ndarray
        Nodal displacements (mm), ux/uy interleaved.
    reaction : float
        Reaction per unit thickness on the loaded edge (N/mm).
    """

    def __init__(self, grid: QuadGrid, lam: np.ndarray, mu: np.ndarray, u: np.ndarray, reaction: float) -> None:
        self.grid, self.lam, self.mu, self.u, self.reaction = grid, lam, mu, u, reaction

    def j_integral(self, radius: float | None = None) -> float:
        """Domain-integral ``J`` (N/mm) at the crack tip; ``radius`` (mm) defaults to 4 tip elements."""
        g = self.grid
        if g.crack_row is None:
            raise ValueError("the mesh has no crack")
        xt, yt = g.xs[g.crack_tip], g.ys[g.crack_row]
        if radius is None:
            radius = 4.0 * max(np.diff(g.xs)[g.crack_tip], np.diff(g.ys)[g.crack_row])
        dist = np.maximum(np.abs(g.coords[:, 0] - xt), np.abs(g.coords[:, 1] - yt))
        q = np.clip((radius - dist) / (0.5 * radius), 0.0, 1.0)
        qe = q[g.conn]
        act = np.flatnonzero(np.ptp(qe, axis=1) > 0)
        gx, gy = g.grads()
        gx, gy = gx[act], gy[act]
        ue = self.u[g.edofs()[act]]
        ux, uy = ue[:, 0::2], ue[:, 1::2]
        dux = np.einsum("eqi,ei->eq", gx, ux), np.einsum("eqi,ei->eq", gy, ux)
        duy = np.einsum("eqi,ei->eq", gx, uy), np.einsum("eqi,ei->eq", gy, uy)
        exx, eyy, gxy = dux[0], duy[1], dux[1] + duy[0]
        lam, mu = self.lam[act, None], self.mu[act, None]
        sxx = (lam + 2 * mu) * exx + lam * eyy
        syy = lam * exx + (lam + 2 * mu) * eyy
        sxy = mu * gxy
        W = 0.5 * (sxx * exx + syy * eyy + sxy * gxy)
        qx = np.einsum("eqi,ei->eq", gx, qe[act])
        qy = np.einsum("eqi,ei->eq", gy, qe[act])
        integrand = (sxx * dux[0] + sxy * duy[0] - W) * qx + (sxy * dux[0] + syy * duy[0]) * qy
        return float(np.sum(integrand * g.detj()[act, None]))


def solve_linear_crack(
    grid: QuadGrid,
    lam: np.ndarray,
    mu: np.ndarray,
    loading: str = "displacement",
    value: float = 1.0,
    mode: str = "I",
    side_rollers: bool = False,
    top_free_y: bool = False,
    left_symmetry: bool = False,
    grip_layer: GripLayer | None = None,
    heartbeat: Heartbeat | None = None,
) -> LinearCrackSolution:
    """One linear elastic solve of a cracked plate.

    Parameters
    ----------
    grid : QuadGrid
        Mesh with its slit crack.
    lam, mu : numpy.ndarray
        2D Lamé parameters per element (MPa).
    loading : {"displacement", "traction"}
        ``"displacement"``: bottom fixed, top edge displaced by ``value`` (mm) in y (mode I,
        ``u_x = 0``) or x (mode II, ``u_y = 0``). ``"traction"``: uniform normal traction
        ``value`` (MPa) on top and bottom edges, rigid motions removed by three point supports
        (free ends, the handbook set-up; mode I only).
    value : float
        Displacement (mm) or traction (MPa).
    mode : {"I", "II"}
        Loading mode for ``loading="displacement"``.
    side_rollers : bool
        ``loading="displacement"``: also hold the left and right edges at ``u_y = 0`` (the
        mode-II set-up of :mod:`fem.fracture`, as in Miehe's shear test).
    top_free_y : bool
        ``loading="displacement"``, mode II: leave the top edge free in y instead of holding it
        at ``u_y = 0`` (the mode-II plates of :mod:`fem.fracture`).
    left_symmetry : bool
        ``loading="traction"``: the left edge is a symmetry plane (``u_x = 0``, the crack a
        centre crack of twice the length; ``u_y`` held at the top-left node only) instead of the
        three point supports.
    grip_layer : GripLayer or None
        ``loading="displacement"``: bond the top and bottom edges to the grips through this
        layer (springs, :func:`fem.grips.edge_springs`) instead of clamping them.
    heartbeat : callable, optional
        Called every 50 ms of the factorisation (:mod:`fem.interrupt`); what it raises propagates.
    """
    if loading not in ("displacement", "traction"):
        raise ValueError(f"loading must be 'displacement' or 'traction', got {loading!r}")
    if mode not in ("I", "II"):
        raise ValueError(f"mode must be 'I' or 'II', got {mode!r}")
    Kq, _, inv = elastic_type_matrices(grid, np.asarray(lam, float), np.asarray(mu, float))
    K = grid.assemble(Kq.sum(1)[inv], True)
    n = K.shape[0]
    x, y = grid.coords[:, 0], grid.coords[:, 1]
    top = np.flatnonzero(np.isclose(y, grid.ys[-1]))
    u = np.zeros(n)
    f = np.zeros(n)
    if loading == "displacement":
        comp = 1 if mode == "I" else 0
        if top_free_y and mode != "II":
            raise ValueError("top_free_y is a mode-II boundary condition (the top edge is pulled in y in mode I)")
        if grip_layer is not None:
            springs, pull = edge_springs(grid, grip_layer, mode, top_free_y)
            K = K + sp.diags(springs)
            f = value * pull
        else:
            u[2 * top + comp] = value
        fixed = held_dofs(grid, "clamped" if grip_layer is None else "bonded", top_free_y, side_rollers)
        loaded = 2 * top + comp
    else:
        for edge, sign in ((grid.ys[-1], 1.0), (grid.ys[0], -1.0)):
            nodes, w = grid.edge_nodes(edge)
            f[2 * nodes + 1] += sign * value * w
        if left_symmetry:
            left = np.flatnonzero(np.isclose(x, grid.xs[0]))
            fixed = np.append(2 * left, 2 * left[np.argmax(y[left])] + 1)
        else:
            fixed = held_dofs(grid, "traction")
        loaded = 2 * top + 1
    free = np.setdiff1d(np.arange(n), fixed)
    rhs = f[free] - K[free][:, fixed] @ u[fixed]
    u[free] = SPDFactor(K[free][:, free], heartbeat).solve(rhs)
    if loading == "traction":
        reaction = float(value * (grid.xs[-1] - grid.xs[0]))
    elif grip_layer is not None:
        reaction = float(value * pull.sum() - pull @ u)  # the tension of the top springs
    else:
        reaction = float((K @ u)[loaded].sum())
    return LinearCrackSolution(grid, np.asarray(lam, float), np.asarray(mu, float), u, reaction)


def edge_crack_k(
    a_over_w: float, E: float = 1.0, nu: float = 0.3, plane: str = "stress", sigma: float = 1.0, h_tip: float = 0.005, half_height: float = 2.0
) -> float:
    """``K_I`` of a homogeneous single-edge-cracked strip (W = 1 mm) under remote tension.

    The strip is ``2 * half_height`` tall with free, uniformly loaded ends; the mesh is graded to
    ``h_tip`` (mm) around the tip. Returns ``sqrt(J E')`` (MPa·sqrt(mm)).
    """
    if not 0 < a_over_w < 1:
        raise ValueError(f"a/W must lie in (0, 1), got {a_over_w!r}")
    mat = Material("plate", E, nu, 1.0)
    lam2, mu = mat.lame(plane)  # type: ignore[arg-type]
    H = float(half_height)
    xs = graded_axis(1.0, h_tip, 0.1, (a_over_w - 0.1, a_over_w + 0.1), (a_over_w,))
    ys = graded_axis(2 * H, h_tip, 0.25, (H - 0.1, H + 0.1), (H,))
    g = QuadGrid(xs, ys, int(np.argmin(np.abs(ys - H))), int(np.argmin(np.abs(xs - a_over_w))))
    lam = np.full(g.nelem, lam2)
    mus = np.full(g.nelem, mu)
    sol = solve_linear_crack(g, lam, mus, loading="traction", value=sigma)
    J = sol.j_integral(radius=0.05)
    return math.sqrt(max(J, 0.0) * mat.plane_modulus(plane))  # type: ignore[arg-type]


def interface_crack_k(
    upper: Material, lower: Material, plane: str = "stress", sigma: float = 1.0, h_tip: float = 0.02,
    size: float = 20.0,
) -> float:
    """``|K|`` of a centre crack (length 2 mm) on the straight interface of two phases, remote tension.

    Half model by symmetry: ``x`` in ``[0, size]`` with the crack from the symmetry plane to
    ``a = 1`` mm on the interface at mid-height of a ``2 size`` tall plate, ``upper`` above and
    ``lower`` below, uniform traction ``sigma`` (MPa) on the top and bottom edges; mesh graded to
    ``h_tip`` (mm) at the tip. ``J`` (domain radius 0.25 mm) is turned into ``|K|`` by
    :func:`interface_stress_intensity`. Rice (1988) gives ``|K| = sigma sqrt(π a (1 + 4 ε²))``
    for the infinite bimaterial when the phases' lateral strains match far away
    (``ν/E`` equal in plane stress); otherwise the finite plate adds its own interface stresses.

    Returns
    -------
    float
        ``|K|`` (MPa·√mm).
    """
    a, half = 1.0, float(size)
    xs = graded_axis(half, h_tip, 2.0, (a - 0.3, a + 0.3), (a,))
    ys = graded_axis(2 * half, h_tip, 2.0, (half - 0.3, half + 0.3), (half,))
    g = QuadGrid(xs, ys, int(np.argmin(np.abs(ys - half))), int(np.argmin(np.abs(xs - a))))
    above = g.centres()[:, 1] > half
    (lam1, mu1), (lam2, mu2) = upper.lame(plane), lower.lame(plane)  # type: ignore[arg-type]
    sol = solve_linear_crack(g, np.where(above, lam1, lam2), np.where(above, mu1, mu2), loading="traction",
                             value=sigma, left_symmetry=True)
    return interface_stress_intensity(sol.j_integral(radius=0.25), upper, lower, plane)
