"""Configurations by name, for the command line and the app: generate, read, write.

* :func:`generate` — a seeded test configuration of one of :data:`GENERATORS` with true labels:
  ``"lattice"`` (a crystal with Lindemann noise), ``"liquid"`` (relaxed random packing),
  ``"slab"`` (crystal slab in its liquid), ``"fcc-hcp"`` (fcc and hcp blocks stacked along z).
  Lengths in units of the nearest-neighbour distance (1). Seeds are integers in
  ``[0, 2³² − 1]`` (:data:`MAX_SEED`), the range the unsupervised methods' seeds have too.
* :func:`read_configuration` — XYZ, CSV or GSD by file suffix (:mod:`.readers`, :mod:`.read_gsd`).
* :func:`write_csv`, :func:`write_xyz` — the formats :mod:`.readers` reads back: CSV with
  ``# box:``/``# periodic:`` header lines (a tilted 2D box as ``Lx Ly 0 xy 0 0``) and centred
  coordinates; extended XYZ with ``Lattice`` and ``pbc`` and corner-origin coordinates. Floats
  are written with ``repr`` (exact).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .lattices import LATTICES, lattice
from .liquids import liquid
from .mixtures import fcc_hcp, slab_in_liquid
from .read_gsd import read_gsd
from .readers import read_csv, read_xyz
from .systems import ParticleSystem

__all__ = ["GENERATORS", "MAX_SEED", "generate", "read_configuration", "write_configuration", "write_csv", "write_xyz"]

#: Generator name → its options and their defaults.
GENERATORS: Mapping[str, dict[str, Any]] = {
    "lattice": {"structure": "fcc", "cells": 6, "lindemann": 0.05, "seed": 0},
    "liquid": {"particles": 1000, "density": math.sqrt(2.0), "seed": 0},
    "slab": {"structure": "fcc", "cells": 8, "slab_fraction": 0.55, "lindemann": 0.05, "seed": 0},
    "fcc-hcp": {"cells": 6, "fcc_layers": 12, "hcp_layers": 12, "lindemann": 0.05, "seed": 0},
}

#: Most particles a generated configuration may hold (keeps the app and its jobs responsive).
MAX_GENERATED = 200_000

#: Largest seed (seeds are integers 0..2³² − 1, the range the unsupervised methods accept too:
#: scikit-learn's and UMAP's ``random_state`` go through numpy's legacy ``RandomState``).
MAX_SEED = 2**32 - 1

#: Integer option → (smallest, largest or None, the rule as messages state it).
_INTEGERS: dict[str, tuple[int, int | None, str]] = {
    "cells": (1, None, "a positive integer"),
    "particles": (2, None, "an integer >= 2 (a liquid needs neighbours)"),
    "fcc_layers": (1, None, "a positive integer"),
    "hcp_layers": (1, None, "a positive integer"),
    "seed": (0, MAX_SEED, f"an integer in [0, {MAX_SEED}] (32 bits, as the seeds of the unsupervised methods)"),
}


def _integer(name: str, value: Any) -> int:
    low, high, rule = _INTEGERS[name]
    number = value
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value):
        ok, number = True, int(value)  # 6.0 from a form is 6
    if not ok or number < low or (high is not None and number > high):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return int(number)


def _real(name: str, value: Any, low: float, high: float, *, closed: bool, note: str = "") -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    inside = ok and math.isfinite(value) and ((low <= value <= high) if closed else (low < value < high))
    if not inside:
        rule = (f"be a finite number > {low:g}" if high == math.inf
                else f"lie in {'[' if closed else '('}{low:g}, {high:g}{']' if closed else ')'}")
        raise ValueError(f"{name} must {rule}{note}, got {value!r}")
    return float(value)


def _count(kind: str, o: dict[str, Any]) -> int:
    if kind == "lattice":
        per_cell = {"sc": 1, "bcc": 2, "fcc": 4, "hcp": 4, "diamond": 8, "hexagonal": 2}[o["structure"]]
        return per_cell * int(o["cells"]) ** (2 if o["structure"] == "hexagonal" else 3)
    if kind == "liquid":
        return int(o["particles"])
    if kind == "slab":
        per_cell = {"sc": 1, "bcc": 2, "fcc": 4, "hcp": 4, "diamond": 8}.get(o["structure"], 4)
        return per_cell * int(o["cells"]) ** 3
    return 2 * int(o["cells"]) ** 2 * (int(o["fcc_layers"]) + int(o["hcp_layers"]))


def generate(kind: str, **options: Any) -> ParticleSystem:
    """A seeded configuration with true labels (module notes).

    Parameters
    ----------
    kind : {"lattice", "liquid", "slab", "fcc-hcp"}
        Generator.
    **options
        Those of :data:`GENERATORS` [kind]; ``structure`` is a lattice of
        :data:`.lattices.LATTICES` (3D ones for a slab), ``cells`` unit cells per axis,
        ``lindemann`` the rms displacement over the nearest-neighbour distance (0 to 0.5),
        ``density`` particles per unit volume (√2 is fcc's), ``slab_fraction`` in (0, 1),
        ``seed`` an integer in ``[0, MAX_SEED]`` (2³² − 1). ``None`` means the default.

    Raises
    ------
    ValueError
        Unknown kind or option, values of the wrong type (``True``, ``"3"``, NaN) or out of range
        (a seed beyond 2³² − 1), more than :data:`MAX_GENERATED` particles; the message names
        the option and its allowed range.
    """
    if not isinstance(kind, str) or kind not in GENERATORS:
        raise ValueError(f"unknown configuration kind {kind!r}; allowed: {', '.join(GENERATORS)}")
    unknown = sorted(set(options) - set(GENERATORS[kind]))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for a {kind}; allowed: "
                         f"{', '.join(GENERATORS[kind])}")
    o = {**GENERATORS[kind], **{k: v for k, v in options.items() if v is not None}}
    if "structure" in o and (not isinstance(o["structure"], str) or o["structure"] not in LATTICES):
        raise ValueError(f"unknown structure {o['structure']!r}; allowed: {', '.join(LATTICES)}")
    if kind == "slab" and o["structure"] == "hexagonal":
        raise ValueError("a slab needs a 3D structure; hexagonal is 2D")
    for name in _INTEGERS:
        if name in o:
            o[name] = _integer(name, o[name])
    if "lindemann" in o:
        o["lindemann"] = _real("lindemann", o["lindemann"], 0.0, 0.5, closed=True, note=" (melting near 0.1-0.15)")
    if "density" in o:
        o["density"] = _real("density", o["density"], 0.0, math.inf, closed=False)
    if "slab_fraction" in o:
        o["slab_fraction"] = _real("slab_fraction", o["slab_fraction"], 0.0, 1.0, closed=False)
    n = _count(kind, o)
    if n > MAX_GENERATED:
        raise ValueError(f"a {kind} of these settings holds {n} particles; at most {MAX_GENERATED} allowed")
    seed = int(o["seed"])
    if kind == "lattice":
        return lattice(o["structure"], int(o["cells"]), lindemann=float(o["lindemann"]), seed=seed)
    if kind == "liquid":
        return liquid(int(o["particles"]), float(o["density"]), seed=seed)
    if kind == "slab":
        return slab_in_liquid(o["structure"], int(o["cells"]), slab_fraction=float(o["slab_fraction"]),
                              lindemann=float(o["lindemann"]), seed=seed)
    return fcc_hcp(int(o["cells"]), fcc_layers=int(o["fcc_layers"]), hcp_layers=int(o["hcp_layers"]),
                   lindemann=float(o["lindemann"]), seed=seed)


#: Formats :func:`read_configuration` reads (file suffixes).
READ_FORMATS: tuple[str, ...] = ("xyz", "csv", "gsd")


#: Formats :func:`write_configuration` writes.
WRITE_FORMATS: tuple[str, ...] = ("xyz", "csv")


def _format(path: Path, fmt: str | None, allowed: tuple[str, ...]) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in allowed:
        raise ValueError(f"{path}: unknown configuration format {fmt!r}; allowed: {', '.join(allowed)} "
                         "(by the file suffix, or give the format)")
    return fmt


def read_configuration(path: str | Path, fmt: str | None = None) -> ParticleSystem:
    """Read an XYZ, CSV or GSD (first frame) configuration (format from the suffix unless ``fmt`` is given).

    Raises
    ------
    ValueError
        Missing or unreadable file, unknown format, or anything :mod:`.readers` refuses.
    """
    path = Path(path)
    kind = _format(path, fmt, READ_FORMATS)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        return {"xyz": read_xyz, "csv": read_csv, "gsd": read_gsd}[kind](path)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _box_header(system: ParticleSystem) -> list[str]:
    box = system.box
    values = [box.Lx, box.Ly, 0.0 if system.dim == 2 else box.Lz, box.xy, box.xz, box.yz]
    count = (2 if system.dim == 2 else 3) if not any(values[3:]) else 6  # a tilted 2D box: Lx Ly 0 xy 0 0
    lengths = " ".join(repr(float(v)) for v in values[:count])
    flags = " ".join("true" if p else "false" for p in system.periodic)
    return [f"# box: {lengths}", f"# periodic: {flags}"]


def write_csv(system: ParticleSystem, path: str | Path) -> Path:
    """CSV with box header, columns x, y[, z], and label and species when known."""
    path = Path(path)
    columns = ["x", "y", "z"][: system.dim]
    extra = [(name, values) for name, values in (("label", system.labels), ("species", system.species))
             if values is not None]
    lines = [*_box_header(system), ",".join(columns + [name for name, _ in extra])]
    for k, row in enumerate(system.positions):
        lines.append(",".join([repr(float(v)) for v in row] + [str(values[k]) for _, values in extra]))
    _write(path, "\n".join(lines) + "\n")
    return path


def write_xyz(system: ParticleSystem, path: str | Path) -> Path:
    """Extended XYZ (3D only): ``Lattice``, ``pbc``, species (or the label, or ``X``) and x y z."""
    path = Path(path)
    if system.dim != 3:
        raise ValueError("XYZ files hold 3D configurations; write a 2D system as CSV")
    matrix = np.asarray(system.box.to_matrix(), dtype=float)
    corner = system.positions + matrix.sum(axis=1) / 2
    names = system.species if system.species is not None else system.labels
    lattice_text = " ".join(repr(float(v)) for v in matrix.T.ravel())
    pbc = " ".join("T" if p else "F" for p in system.periodic)
    lines = [str(system.n_particles), f'Lattice="{lattice_text}" pbc="{pbc}"']
    for k, row in enumerate(corner):
        name = "X" if names is None else str(names[k])
        lines.append(" ".join([name, *(repr(float(v)) for v in row)]))
    _write(path, "\n".join(lines) + "\n")
    return path


def write_configuration(system: ParticleSystem, path: str | Path, fmt: str | None = None) -> Path:
    """Write CSV or XYZ by the file suffix (or ``fmt``)."""
    path = Path(path)
    return write_xyz(system, path) if _format(path, fmt, WRITE_FORMATS) == "xyz" else write_csv(system, path)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise ValueError(f"cannot write {path}: {exc.strerror or exc}") from None
