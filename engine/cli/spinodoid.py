"""``matloop spinodoid homogenize|export-stl``: stiffness and printable files of spinodoids."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from designs.spinodal import Spinodoid
from designs.stl import CELL_MM_RANGE
from engine.cli.common import open_store
from engine.evaluators.spinodoid import BOUNDARY_CONDITIONS, check_stl_export, homogenize_and_store
from fem.homogenize import BASE_MATERIAL, ORTHOTROPIC_CONSTANTS, RESOLUTIONS

__all__ = ["register", "design_from_args"]


def _design_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rho", type=float, required=True, help="solid volume fraction, in (0, 1)")
    parser.add_argument("--theta", type=float, nargs=3, default=(90.0, 90.0, 90.0), metavar=("TX", "TY", "TZ"),
                        help="cone half-angles in degrees (0 = closed, up to 90; default 90 90 90: isotropic)")
    parser.add_argument("--beta", type=float, default=10 * np.pi, help="wave number (1/unit length), default 10π")
    parser.add_argument("--n-waves", type=int, default=1000, help="number of superposed waves (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the wave directions and phases (default 0)")
    parser.add_argument("--periodic", action="store_true", help="exactly periodic variant (for tiling/printing)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("spinodoid", help="homogenise spinodoids or export them as STL")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    E, nu = BASE_MATERIAL
    hom = actions.add_parser("homogenize", help=f"effective 6×6 stiffness (solid E = {E:g}, ν = {nu:g}), stored")
    _design_arguments(hom)
    hom.add_argument("--resolution", type=int, default=32,
                     help=f"voxels per cell side, {RESOLUTIONS[0]}..{RESOLUTIONS[1]} and at least 4 per wavelength "
                          "2π/β of the cell (20 at the default β, more for a periodic cell of several units) "
                          "(default 32)")
    hom.add_argument("--bc", choices=BOUNDARY_CONDITIONS, default="affine", help="boundary conditions (default affine)")
    hom.add_argument("--json", action="store_true", help="print the metrics as JSON")
    hom.set_defaults(func=_homogenize)
    stl = actions.add_parser("export-stl", help="binary STL in millimetres, capped and watertight")
    _design_arguments(stl)
    stl.add_argument("--out", required=True, help="STL file to write")
    stl.add_argument("--cell-mm", type=float, default=10.0,
                     help=f"edge of one cell in mm, {CELL_MM_RANGE[0]:g} to {CELL_MM_RANGE[1]:g} (default 10)")
    stl.add_argument("--tiles", type=int, default=1, help="cells along each axis, 1..6 (needs --periodic when > 1)")
    stl.add_argument("--resolution", type=int, default=64, help="samples per cell side, up to 512 (default 64)")
    stl.set_defaults(func=_export)


def design_from_args(args: argparse.Namespace) -> Spinodoid:
    """The spinodoid described by the command-line options (validated); a warning on standard error for one
    too degenerate to be a spinodoid (:meth:`Spinodoid.structure_warning`)."""
    design = Spinodoid(rho=args.rho, theta=tuple(args.theta), beta=args.beta, n_waves=args.n_waves,
                       seed=args.seed, periodic=args.periodic)
    warning = design.structure_warning()
    if warning is not None:
        print(f"matloop: warning: {warning}", file=sys.stderr)
    return design


def _homogenize(args: argparse.Namespace) -> int:
    design = design_from_args(args)
    store = open_store(args)
    evaluation, computed = homogenize_and_store(store, design, args.resolution, args.bc)
    metrics = evaluation.metrics
    if args.json:
        print(json.dumps({"status": evaluation.status, "reason": evaluation.reason or "", **metrics}, indent=2))
        return 0 if evaluation.ok else 1
    print(f"spinodoid {design.content_hash()[:12]}  ρ = {design.rho:.3g}  θ = {design.theta}  "
          + ("periodic  " if design.periodic else "") +
          f"{args.resolution}³ voxels, {args.bc} BC ({'computed' if computed else 'from the store'})")
    if "connected_fraction" in metrics:  # absent when the solver broke down before the clusters
        print(f"solid fraction {metrics['solid_fraction']:.4f}, load-bearing {metrics['connected_fraction']:.4f} "
              f"in {metrics.get('kept_clusters')} cluster(s), percolates x/y/z {metrics.get('percolates')}")
    if not evaluation.ok:
        print(f"matloop: homogenisation failed: {evaluation.reason}")
        return 1
    print("C (Voigt, units of the solid's E):")
    for row in metrics["C"]:
        print("  " + "  ".join(f"{v:9.5f}" for v in row))
    print("  ".join(f"{k} {metrics[k]:.4f}" for k in ORTHOTROPIC_CONSTANTS))
    print(f"symmetry error {metrics['symmetry_error']:.2e}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from designs.stl import checked_stl, part_warnings, shell_volumes, spinodoid_header, spinodoid_part

    out = Path(args.out)
    if out.suffix.lower() != ".stl":
        raise ValueError(f"--out {out} must end in .stl: this writes a binary STL file (3MF is for two-material "
                         "plates, 'matloop campaign export --format 3mf')")
    design = design_from_args(args)
    check_stl_export(args.resolution, args.tiles)
    mesh, connectivity = spinodoid_part(design, args.resolution, args.cell_mm, args.tiles)
    try:
        data = checked_stl(mesh, spinodoid_header(design, args.tiles))
    except ValueError as exc:
        raise ValueError(f"at ρ = {design.rho:g}, {args.resolution} samples a side: {exc}") from None
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc.strerror}") from None
    side = args.cell_mm * args.tiles
    islands = connectivity.solid_fraction - connectivity.connected_fraction
    dropped = f"; floating islands, {islands:.3f} of the box, left out" if islands >= 5e-4 else ""
    volumes = shell_volumes(mesh)
    bodies = int((volumes > 0).sum())
    print(f"wrote {out}: {len(mesh.faces)} triangles, {len(data)} bytes, {side:g} mm cube, watertight, "
          f"{bodies} bod{'y' if bodies == 1 else 'ies'}, volume {mesh.volume:.4g} mm³ "
          f"({mesh.volume / side**3:.3f} of the box; ρ = {design.rho:.3g}{dropped})")
    for warning in part_warnings(mesh, connectivity, volumes):
        print(f"matloop: warning: {warning}", file=sys.stderr)
    return 0
