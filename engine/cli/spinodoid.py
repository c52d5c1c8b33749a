"""``matloop spinodoid homogenize|export-stl``: stiffness and printable files of spinodoids."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from designs.spinodal import Spinodoid
from engine.cli.common import open_store
from engine.evaluators.spinodoid import BOUNDARY_CONDITIONS, check_stl_export, homogenize_and_store
from fem.homogenize import BASE_MATERIAL, ORTHOTROPIC_CONSTANTS

__all__ = ["register", "design_from_args"]


def _design_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rho", type=float, required=True, help="solid volume fraction, in (0, 1)")
    parser.add_argument("--theta", type=float, nargs=3, default=(90.0, 90.0, 90.0), metavar=("TX", "TY", "TZ"),
                        help="cone half-angles in degrees (0 = closed, up to 90)")
    parser.add_argument("--beta", type=float, default=10 * np.pi, help="wave number (1/unit length), default 10π")
    parser.add_argument("--n-waves", type=int, default=1000, help="number of superposed waves")
    parser.add_argument("--seed", type=int, default=0, help="seed of the wave directions and phases")
    parser.add_argument("--periodic", action="store_true", help="exactly periodic variant (for tiling/printing)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("spinodoid", help="homogenise spinodoids or export them as STL")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    E, nu = BASE_MATERIAL
    hom = actions.add_parser("homogenize", help=f"effective 6×6 stiffness (solid E = {E:g}, ν = {nu:g}), stored")
    _design_arguments(hom)
    hom.add_argument("--resolution", type=int, default=32, help="voxels per cell side")
    hom.add_argument("--bc", choices=BOUNDARY_CONDITIONS, default="affine", help="boundary conditions")
    hom.add_argument("--json", action="store_true", help="print the metrics as JSON")
    hom.set_defaults(func=_homogenize)
    stl = actions.add_parser("export-stl", help="binary STL in millimetres, capped and watertight")
    _design_arguments(stl)
    stl.add_argument("--out", required=True, help="STL file to write")
    stl.add_argument("--cell-mm", type=float, default=10.0, help="edge of one cell in mm")
    stl.add_argument("--tiles", type=int, default=1, help="cells along each axis (needs --periodic when > 1)")
    stl.add_argument("--resolution", type=int, default=64, help="samples per cell side")
    stl.set_defaults(func=_export)


def design_from_args(args: argparse.Namespace) -> Spinodoid:
    """The spinodoid described by the command-line options (validated)."""
    return Spinodoid(rho=args.rho, theta=tuple(args.theta), beta=args.beta, n_waves=args.n_waves,
                     seed=args.seed, periodic=args.periodic)


def _homogenize(args: argparse.Namespace) -> int:
    design = design_from_args(args)
    store = open_store(args)
    evaluation, computed = homogenize_and_store(store, design, args.resolution, args.bc)
    metrics = evaluation.metrics
    if args.json:
        print(json.dumps({"status": evaluation.status, "reason": evaluation.reason or "", **metrics}, indent=2))
        return 0 if evaluation.ok else 1
    print(f"spinodoid {design.content_hash()[:12]}  ρ = {design.rho:.3f}  θ = {design.theta}  "
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
    import trimesh

    from designs.stl import body_volumes, spinodoid_mesh

    design = design_from_args(args)
    check_stl_export(args.resolution, args.tiles)
    mesh = spinodoid_mesh(design, args.resolution, args.cell_mm, args.tiles)
    data = mesh.to_stl(f"matloop spinodoid rho={design.rho:.3f} tiles={args.tiles} mm")
    out = Path(args.out)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc.strerror}") from None
    check = trimesh.Trimesh(vertices=mesh.vertices, faces=mesh.faces, process=True)
    side = args.cell_mm * args.tiles
    bodies = body_volumes(mesh)
    print(f"wrote {out}: {len(mesh.faces)} triangles, {len(data)} bytes, "
          f"{side:g} mm cube, watertight {check.is_watertight}, {len(bodies)} bod{'y' if len(bodies) == 1 else 'ies'}, "
          f"volume {check.volume:.1f} mm³ ({check.volume / side**3:.3f} of the box; ρ = {design.rho:.3f})")
    if len(bodies) > 1:
        print(f"matloop: warning: the part falls apart into {len(bodies)} separate bodies (the largest holds "
              f"{100 * bodies[0] / bodies.sum():.1f} % of the volume)",
              file=sys.stderr)
    return 0
