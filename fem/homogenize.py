"""Voxel homogenisation of (spinodoid) microstructures: effective 6×6 stiffness.

Trilinear-hex voxel finite elements (one element matrix from scikit-fem, index-arithmetic
assembly, :mod:`fem.voxel_elasticity`), six unit macroscopic strains in Voigt order
11, 22, 33, 23, 13, 12 (engineering shears), and two boundary conditions:

* ``"periodic"``: u = ε̄ x + w with w periodic — the effective stiffness of the periodic
  structure (exact for periodic cells, a softer estimate for non-periodic ones);
* ``"affine"``: kinematic uniform displacements u = ε̄ x on all outer-face nodes — an upper
  estimate; this is what reproduces the published Kumar et al. (2020) data.

Void voxels carry no stiffness and are removed (nodes touched only by void are dropped). Every
face-connected solid cluster that carries load is kept and only floating islands are dropped
(:func:`designs.spinodal.connectivity`): under affine conditions every cluster touching a face
of the cell (the boundary holds it: a stack of separate plates is as stiff as the sum of its
plates), under periodic ones every cluster that percolates (two interlocked networks that do
not touch give twice the stiffness of one). A structure that no kept cluster connects along an
axis has no load path and zero stiffness along it: that is a failed result naming the axes,
not a small number (under affine conditions :func:`homogenize` can still solve the boundary
value problem as posed, ``require_percolation=False``, as the published data of Kumar et al.
2020 do for such structures).

The elements are trilinear hexahedra, fully integrated for ν ≤ 0.4 (what reproduces the
published data) or, for nearly incompressible solids up to ν = 0.499, with the locking-free B̄
(mean-dilatation) volumetric energy (:mod:`fem.voxel_elasticity`). The six load cases are
solved together by block CG preconditioned with one smoothed-aggregation AMG hierarchy
(rigid-body modes); under periodic conditions one node of each separate body is fixed, and a
fibre that joins its images along one direction only gets a spring against turning about it
(both only remove zero-energy modes). The effective stiffness is the energy C_IJ = (u0_I + w_I)ᵀ K (u0_J + w_J) / V = (Σ_e u0_Iᵀ K_e
u0_J + g_I · w_J + w_I · g_J + w_Iᵀ K w_J) / V, in the unit of the Young's moduli given: exactly
symmetric, with an error quadratic in the residual of the iterative solve.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fem.amg import block_pcg, build_hierarchy
from fem.interrupt import Heartbeat, interruptible
from fem.materials import isotropic_stiffness
from fem.spmm import torch_threads
from fem.voxel_elasticity import ELEMENTS, assemble, check_element, rigid_body_modes

__all__ = [
    "BASE_MATERIAL",
    "ORTHOTROPIC_CONSTANTS",
    "RESOLUTIONS",
    "SOLVER_NAME",
    "SOLVER_VERSION",
    "Homogenized",
    "directional_young",
    "directional_young_surface",
    "check_resolution",
    "homogenize",
    "isotropic_stiffness",
    "label",
    "orthotropic_constants",
    "symmetry_error",
]

SOLVER_NAME = "matloop-voxel-amg"
SOLVER_VERSION = "2.0"

_BCS = ("periodic", "affine")
#: (E, ν) of the solid of :func:`label`: stiffnesses come out in units of its Young's modulus.
BASE_MATERIAL = (1.0, 0.3)
#: Names of the nine orthotropic engineering constants, in the order :func:`orthotropic_constants` gives.
ORTHOTROPIC_CONSTANTS = ("E1", "E2", "E3", "G23", "G13", "G12", "nu12", "nu13", "nu23")


def symmetry_error(C: np.ndarray) -> float:
    """max |C − Cᵀ| / max |C| (dimensionless); 0 for an exactly symmetric matrix, NaN for one with a
    non-finite entry (no symmetry can be read from it)."""
    C = np.asarray(C, dtype=float)
    if not np.all(np.isfinite(C)):
        return float("nan")
    m = np.abs(C).max()
    return float(np.abs(C - C.T).max() / m) if m > 0 else 0.0


def orthotropic_constants(C: np.ndarray) -> dict[str, float]:
    """Nine orthotropic engineering constants from a 6×6 Voigt stiffness.

    Parameters
    ----------
    C : numpy.ndarray
        (6, 6) stiffness (any stress unit), Voigt order 11, 22, 33, 23, 13, 12.

    Returns
    -------
    dict
        E1, E2, E3 (Young's moduli), G23, G13, G12 (shear moduli), in the unit of C, and
        nu12, nu13, nu23 (ν_ij = −S_ij / S_ii, strain in j per strain in i under stress i),
        from the compliance S = C⁻¹ of the symmetrised C.

    Raises
    ------
    ValueError
        C is not a finite 6×6 matrix, not symmetric (:func:`symmetry_error` above 1 %: a loose solve's
        error, ``rtol`` = 1e-3, stays far below it), or not positive definite: then it is no stiffness of a stable solid (a
        structure with no load path along an axis has a singular one) and has no engineering constants.
    """
    C = np.asarray(C, dtype=float)
    if C.shape != (6, 6) or not np.all(np.isfinite(C)):
        raise ValueError(f"C must be a finite 6x6 matrix, got shape {C.shape}")
    if symmetry_error(C) > 1e-2:
        raise ValueError(f"C is not symmetric (max |C - Cᵀ| / max |C| = {symmetry_error(C):.2g}): no stiffness")
    smallest = float(np.linalg.eigvalsh(0.5 * (C + C.T))[0])
    if not smallest > 1e-12 * np.abs(C).max():
        raise ValueError(f"C is not positive definite (smallest eigenvalue {smallest:.3g}): no stiffness of a stable "
                         "solid, so no engineering constants")
    S = np.linalg.inv(0.5 * (C + C.T))
    values = (1 / S[0, 0], 1 / S[1, 1], 1 / S[2, 2], 1 / S[3, 3], 1 / S[4, 4], 1 / S[5, 5],
              -S[0, 1] / S[0, 0], -S[0, 2] / S[0, 0], -S[1, 2] / S[1, 1])
    return {name: float(value) for name, value in zip(ORTHOTROPIC_CONSTANTS, values)}


def directional_young(C: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Young's modulus along unit directions d: 1/E(d) = sᵀ S s, s = Voigt(d ⊗ d).

    Parameters
    ----------
    C : numpy.ndarray
        (6, 6) Voigt stiffness (engineering shear strains).
    directions : numpy.ndarray
        (..., 3) directions (normalised here).

    Returns
    -------
    numpy.ndarray
        E(d) with shape ``directions.shape[:-1]``, unit of C.
    """
    d = np.asarray(directions, dtype=float)
    if d.shape[-1] != 3:
        raise ValueError(f"directions must have last dimension 3, got shape {d.shape}")
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    S = np.linalg.inv(0.5 * (np.asarray(C, float) + np.asarray(C, float).T))
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    s = np.stack([x * x, y * y, z * z, y * z, x * z, x * y], axis=-1)
    return 1.0 / np.einsum("...i,ij,...j->...", s, S, s)


def directional_young_surface(
    C: np.ndarray, n_polar: int = 37, n_azimuth: int = 73
) -> dict[str, np.ndarray]:
    """Directional Young's modulus on a polar × azimuth grid, ready for a 3D surface plot.

    Parameters
    ----------
    C : numpy.ndarray
        (6, 6) Voigt stiffness.
    n_polar, n_azimuth : int
        Grid points in the polar angle [0, π] and azimuth [0, 2π].

    Returns
    -------
    dict
        ``E`` (n_polar, n_azimuth) moduli in the unit of C and ``x, y, z`` = E(d) · d, the
        points of the surface r(d) = E(d) d.
    """
    if n_polar < 2 or n_azimuth < 3:
        raise ValueError(f"need n_polar >= 2 and n_azimuth >= 3, got {n_polar}, {n_azimuth}")
    th, ph = np.meshgrid(np.linspace(0, np.pi, n_polar), np.linspace(0, 2 * np.pi, n_azimuth),
                         indexing="ij")
    d = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], axis=-1)
    E = directional_young(C, d)
    return {"E": E, "x": E * d[..., 0], "y": E * d[..., 1], "z": E * d[..., 2]}


@dataclass(frozen=True)
class Homogenized:
    """Result of a homogenisation.

    Attributes
    ----------
    C : numpy.ndarray
        (6, 6) effective Voigt stiffness (unit of the input moduli), as computed (not
        symmetrised); NaN-filled when ``status != "ok"``.
    bc : str
        ``"periodic"`` or ``"affine"``.
    status : str
        ``"ok"`` or ``"failed"``.
    reason : str
        Why it failed (empty when ok).
    solid_fraction : float
        Solid voxels / all voxels of the input.
    connected_fraction : float
        Voxels of the kept (load-bearing) clusters / all voxels.
    percolates : tuple of bool
        Whether a kept cluster connects the cell along x, y, z (see
        :class:`designs.spinodal.Connectivity`).
    iterations : int
        Block-CG iterations.
    residual : float
        Largest final relative residual of the six load cases.
    seconds : dict
        Wall time of the stages (s).
    n_dofs : int
        Unknowns solved for.
    kept_clusters : int
        Load-bearing clusters kept (floating islands dropped).
    """

    C: np.ndarray
    bc: str
    status: str
    reason: str
    solid_fraction: float
    connected_fraction: float
    percolates: tuple[bool, bool, bool]
    iterations: int = 0
    residual: float = float("nan")
    seconds: dict[str, float] = field(default_factory=dict)
    n_dofs: int = 0
    kept_clusters: int = 0

    @property
    def symmetry_error(self) -> float:
        """max |C − Cᵀ| / max |C|."""
        return symmetry_error(self.C) if self.status == "ok" else float("nan")

    @property
    def constants(self) -> dict[str, float]:
        """Nine orthotropic constants (see :func:`orthotropic_constants`)."""
        return orthotropic_constants(self.C)


def _material_pairs(materials: Any) -> list[tuple[float, float]]:
    """``materials`` as a list of ``(E, nu)`` floats; ``ValueError`` unless it is a sequence of number pairs."""
    def number(x: Any) -> bool:
        return isinstance(x, numbers.Real) and not isinstance(x, bool)

    hint = "materials must be a list of (E, nu) pairs, e.g. [(1.0, 0.3)]"
    if isinstance(materials, (str, bytes)) or not hasattr(materials, "__iter__"):
        raise ValueError(f"{hint}; got {materials!r}")
    pairs = list(materials)
    for pair in pairs:
        if (isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2
                or not all(map(number, pair))):
            raise ValueError(f"{hint}; got the entry {pair!r}")
    return [(float(E), float(nu)) for E, nu in pairs]


def _check_inputs(phase: np.ndarray, materials: list[tuple[float, float]], bc: str, element: str) -> np.ndarray:
    if bc not in _BCS:
        raise ValueError(f"bc must be one of {_BCS}, got {bc!r}")
    phase = np.asarray(phase)
    if phase.ndim != 3 or min(phase.shape) < 2:
        raise ValueError(f"phase must be a 3D array with at least 2 voxels per side, got shape {phase.shape}")
    if phase.dtype == bool:
        phase = phase.astype(np.int64)
    if not np.issubdtype(phase.dtype, np.integer):
        raise ValueError(f"phase must be boolean or integer (0 = void, p = material p), got {phase.dtype}")
    if len(materials) == 0:
        raise ValueError("materials must list at least one (E, nu) pair")
    for E, nu in materials:
        if not (math.isfinite(E) and E > 0):
            raise ValueError(f"each material needs a finite Young's modulus E > 0, got ({E!r}, {nu!r})")
        check_element(element, nu)
    if phase.min() < 0 or phase.max() > len(materials):
        raise ValueError(
            f"phase values must lie in 0..{len(materials)} (0 = void), got {phase.min()}..{phase.max()}")
    return phase


def _failure_reason(missing: tuple[str, ...]) -> str:
    """The reason of a structure without a load path along ``missing`` axes."""
    which = "that axis" if len(missing) == 1 else "those axes"
    return f"does not percolate along {', '.join(missing)}: no load path, zero stiffness along {which}"


def _periodic_anchors(kept: np.ndarray) -> tuple[np.ndarray, list[tuple[tuple[int, int, int], np.ndarray]]]:
    """Nodes to fix and springs that remove the zero-energy modes of a periodic structure.

    Each separate body (voxels sharing a node belong to one body) can translate freely: one of
    its nodes is fixed. A body that joins its periodic images along one lattice direction d
    only (a fibre) can also turn about d: a spring at a second node of the same voxel, normal to
    d and to the edge between the two nodes, stops it. Fixing a zero-energy mode does not change
    the energy minimum, so C is unchanged.
    """
    from designs.spinodal import find_clusters

    bodies = find_clusters(kept, periodic=True, corners=True)
    values, first = np.unique(bodies.labels.ravel(), return_index=True)
    first_voxel = dict(zip(values.tolist(), first.tolist()))
    pinned, springs = [], []
    for i in range(bodies.n):
        p = np.array(np.unravel_index(first_voxel[i + 1], kept.shape))
        pinned.append(p)
        if bodies.wrap_rank(i) == 1:
            d = bodies.wraps[i][0] / np.linalg.norm(bodies.wraps[i][0])
            b = int(np.argmin(np.abs(d)))
            edge = np.eye(3, dtype=int)[b]
            springs.append((tuple(int(t) for t in p + edge), np.cross(d, edge)))
    return np.array(pinned).reshape(-1, 3), springs


def homogenize(
    phase: np.ndarray,
    bc: str = "periodic",
    materials: list[tuple[float, float]] | None = None,
    rtol: float = 1e-3,
    require_percolation: bool = True,
    element: str = "full",
    threads: int | None = 1,
    heartbeat: Heartbeat | None = None,
) -> Homogenized:
    """Effective 6×6 stiffness of a voxel structure.

    Parameters
    ----------
    phase : numpy.ndarray
        Boolean (True = solid of material 1) or integer (0 = void, p ≥ 1 = material p) array
        (nx, ny, nz). Voxels are cubes; the result does not depend on their size.
    bc : {"periodic", "affine"}
        Boundary condition (see module docstring).
    materials : list of (float, float), optional
        (E, ν) per material; default ``[BASE_MATERIAL]`` = [(1.0, 0.3)]. C has the unit of E.
        ν must lie in (−1, 0.4] for ``element="full"`` and in (−1, 0.499] for ``"bbar"``
        (:data:`fem.voxel_elasticity.NU_MAX`); outside, ``ValueError`` names the range.
    rtol : float
        Relative residual of the block CG. C is evaluated in the energy form (error quadratic
        in the solve error); measured against rtol = 1e-9 on ρ = 0.5 spinodoids, rtol = 1e-3
        gives max |ΔC| / max |C| = 2.7e-7 (affine) and 4.1e-7 (periodic) at 64³, 3.8e-7 and
        1.1e-6 at 32³ — far below the discretisation error (from 32³ to 64³ C11 moves 5 % at ρ = 0.5,
        and C's diagonal up to 9.4 % at ρ = 0.3, where the struts are thinner in voxels) —
        in 15 and 19 CG iterations at 64³ instead of 18 and 25 at rtol = 1e-4. Use 1e-8 or
        less for exact-solution checks.
    require_percolation : bool
        True (default): a structure that no kept cluster connects along some axis gets
        ``status="failed"`` with the reason naming the axes (no load path, zero stiffness
        along them). False, affine conditions only: solve anyway; the stiffness along such an
        axis then comes from the boundary holding the separate clusters (the published
        convention of Kumar et al. 2020 for stacks of separate plates). Periodic conditions
        always require percolation along x, y and z (the problem is singular otherwise).
    element : {"full", "bbar"}
        Hexahedron formulation (:mod:`fem.voxel_elasticity`): "full" (default; locks as
        ν → 1/2, hence ν ≤ 0.4) or the locking-free mean-dilatation "bbar" (ν ≤ 0.499).
    threads : int or None
        torch intra-op threads for the hierarchy set-up and the solve (restored afterwards);
        ``None`` keeps torch's setting. One thread is the robust default on shared machines
        and in worker pools.
    heartbeat : callable, optional
        Called between the stages, every 50 ms of the assembly and the AMG set-up (run in a
        helper thread, :func:`fem.interrupt.interruptible`) and before every block-CG
        iteration; what it raises (a cancelled job) propagates. Results do not depend on it.

    Returns
    -------
    Homogenized
    """
    from designs.spinodal import connectivity

    materials = [BASE_MATERIAL] if materials is None else _material_pairs(materials)
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not 0.0 < rtol < 1.0:
        raise ValueError(f"rtol (relative residual of the solve) must be a number in (0, 1), e.g. 1e-3; got {rtol!r}")
    if element not in ELEMENTS:
        raise ValueError(f"element must be one of {ELEMENTS}, got {element!r}")
    phase = _check_inputs(phase, materials, bc, element)
    periodic = bc == "periodic"
    t0 = time.perf_counter()
    kept, rep = connectivity(phase > 0, periodic=periodic)
    phase = np.where(kept, phase, 0)
    sf, cf, perc = rep.solid_fraction, rep.connected_fraction, rep.percolates
    nan = np.full((6, 6), np.nan)

    def failed(reason: str) -> Homogenized:
        return Homogenized(nan, bc, "failed", reason, sf, cf, perc, kept_clusters=rep.n_kept)

    if sf == 0.0:
        return failed("no solid voxel")
    if cf == 0.0:
        where = ("no solid cluster percolates" if periodic else
                 "the solid touches no face of the cell")
        return failed(f"{where}: every cluster is a floating island; {_failure_reason(('x', 'y', 'z'))}")
    if rep.missing_axes and (periodic or require_percolation):
        return failed(_failure_reason(rep.missing_axes))
    pinned, springs = _periodic_anchors(kept) if periodic else (None, None)
    t1 = time.perf_counter()
    if heartbeat is not None:
        heartbeat()
    system = interruptible(lambda: assemble(phase, materials, bc, element, pinned, springs), heartbeat)
    t2 = time.perf_counter()
    with torch_threads(threads):
        M = interruptible(lambda: build_hierarchy(system.K, rigid_body_modes(system.coords)), heartbeat)
        G, C0, vol, ndof = system.G, system.C0, system.volume, system.K.shape[0]
        del system
        t3 = time.perf_counter()
        W, info = block_pcg(M.levels[0].A, -G, M, rtol=rtol, maxiter=1000, heartbeat=heartbeat)
        # energy form a(u0_I + w_I, u0_J + w_J): symmetric, and its error is quadratic in
        # the CG error (the linear terms vanish at the solution), unlike C0 + G^T W
        GW = G.T @ W
        C = (C0 + GW + GW.T + W.T @ (M.levels[0].A @ W)) / vol
        del M
    t4 = time.perf_counter()
    secs = {"connectivity": t1 - t0, "assembly": t2 - t1, "amg_setup": t3 - t2, "solve": t4 - t3}
    res = max(info.residuals)
    status, reason = "ok", ""
    if not info.converged or not np.all(np.isfinite(C)):
        status, reason, C = "failed", f"block CG did not converge (residual {res:.2e})", nan
    return Homogenized(C, bc, status, reason, sf, cf, perc, info.iterations, res, secs, ndof, rep.n_kept)


#: Voxels per cell side that a homogenisation takes: 8 (coarser resolves no structure) to 256 (16.8 million
#: voxels; :mod:`fem.cost` estimates what a machine holds).
RESOLUTIONS = (8, 256)


def check_resolution(resolution: Any) -> int:
    """``resolution`` as an int, or ``ValueError`` unless it is an integer within :data:`RESOLUTIONS`."""
    low, high = RESOLUTIONS
    r = resolution
    if not (isinstance(r, numbers.Real) and not isinstance(r, bool) and math.isfinite(r)
            and float(r).is_integer() and low <= r <= high):
        raise ValueError(f"resolution must be an integer in {low}..{high} voxels per side, got {r!r}")
    return int(r)


def label(design: Any, resolution: int = 32, bc: str = "affine",
          progress: Callable[[float, str], None] | None = None) -> dict[str, Any]:
    """Picklable labelling entry point for the store: JSON-serialisable metrics of a design.

    Parameters
    ----------
    design : designs.spinodal.Spinodoid
        The design, made of :data:`BASE_MATERIAL` (stiffness in units of its E).
    resolution : int
        Voxels per cell side, within :data:`RESOLUTIONS` and at least ``design.min_resolution()``.
    bc : {"affine", "periodic"}
        Boundary condition.
    progress : callable, optional
        ``progress(fraction, message)``, called once before the solve and then as the
        heartbeat of :func:`homogenize` with the same arguments; what it raises (a cancelled
        job) propagates.

    Returns
    -------
    dict
        ``status`` ("ok"/"failed"), ``reason``, ``C`` (6×6 list or None), the nine
        orthotropic constants (``E1`` … ``nu23``, None when failed), ``symmetry_error``,
        ``solid_fraction``, ``connected_fraction``, ``kept_clusters``, ``percolates``
        ([x, y, z]; a structure that does not percolate along an axis has no load path
        and is labelled failed with the axes named, see :func:`homogenize`), ``bc``,
        ``resolution``, ``iterations``, ``seconds``, ``solver``, ``solver_version``.
        Invalid input (bad resolution, bc) raises ``ValueError``; solver trouble gives
        ``status="failed"`` with the reason.
    """
    from designs.spinodal import Spinodoid

    if not isinstance(design, Spinodoid):
        raise ValueError(f"label expects a Spinodoid design, got {type(design).__name__}")
    if bc not in _BCS:
        raise ValueError(f"bc must be one of {_BCS}, got {bc!r}")
    resolution = check_resolution(resolution)
    vox = design.voxels(resolution)
    out: dict[str, Any] = {"bc": bc, "resolution": int(resolution), "solver": SOLVER_NAME,
                           "solver_version": SOLVER_VERSION}
    heartbeat = None
    if progress is not None:
        message = f"homogenising {int(resolution)}³ voxels, {bc} boundary conditions"

        def heartbeat() -> None:
            progress(0.0, message)

        heartbeat()
    try:
        h = homogenize(vox, bc=bc, heartbeat=heartbeat)
    except (MemoryError, np.linalg.LinAlgError, RuntimeError) as exc:  # solver trouble
        out.update(status="failed", reason=f"{type(exc).__name__}: {exc}", C=None,
                   symmetry_error=None, solid_fraction=float(vox.mean()))
        out.update(dict.fromkeys(ORTHOTROPIC_CONSTANTS))
        return out
    ok = h.status == "ok"
    out.update(
        status=h.status, reason=h.reason,
        C=h.C.tolist() if ok else None,
        symmetry_error=h.symmetry_error if ok else None,
        solid_fraction=h.solid_fraction, connected_fraction=h.connected_fraction,
        kept_clusters=h.kept_clusters, percolates=list(h.percolates), iterations=h.iterations,
        seconds={k: round(v, 4) for k, v in h.seconds.items()},
    )
    consts = h.constants if ok else dict.fromkeys(ORTHOTROPIC_CONSTANTS)
    out.update(consts)
    return out
