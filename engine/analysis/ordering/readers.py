"""Read particle configurations: XYZ (plain or extended) and CSV with a box header.

XYZ (first frame only)::

    3
    Lattice="10 0 0 0 10 0 0 0 10" pbc="T T T"
    A 0.5 1.0 2.0
    ...

Line 1 is the particle count, line 2 a comment; if it holds an extended-XYZ ``Lattice`` (three
box vectors, row by row: a1 along x, a2 in the xy plane, as LAMMPS and freud require) and
optionally ``pbc``, they give the box, otherwise pass ``box``. Each particle line is
``species x y z`` (further columns are ignored).

CSV (``#`` lines before the column header carry the box)::

    # box: 10 10 10            (Lx Ly → 2D; Lx Ly Lz; or Lx Ly Lz xy xz yz, freud tilts)
    # periodic: true true false (optional; default all periodic)
    x,y,z,label,species         (x, y [, z] required; label and species optional)
    0.5,1.0,2.0,fcc,A

Coordinates: ``origin="corner"`` means the box spans ``[0, L)`` along each axis (the
extended-XYZ and LAMMPS convention; the default for XYZ), ``"center"`` that it spans
``[-L/2, L/2)`` (freud's; the default for CSV). Coordinates are returned centred.
Lengths are in the file's units. Every problem raises ``ValueError`` naming the file, the
line and what is allowed.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import freud
import numpy as np

from .systems import ParticleSystem

__all__ = ["checked_system", "read_xyz", "read_csv"]

_TRUE = {"t", "true", "1", "yes"}
_FALSE = {"f", "false", "0", "no"}


def _text_lines(path: Path) -> list[str]:
    """The file's lines, without the byte-order mark spreadsheet programs put first ("CSV UTF-8")."""
    return path.read_text(errors="replace").removeprefix("\ufeff").splitlines()


def _bools(text: str, where: str, dim: int) -> list[bool]:
    words = text.replace(",", " ").split()
    if len(words) != dim or any(w.lower() not in _TRUE | _FALSE for w in words):
        raise ValueError(
            f"{where}: periodic flags must be {dim} values from T/F, true/false, 1/0, got {text!r}"
        )
    return [w.lower() in _TRUE for w in words]


def _floats(words: list[str], where: str, what: str) -> np.ndarray:
    try:
        return np.array([float(w) for w in words])
    except ValueError:
        raise ValueError(f"{where}: {what} must be numbers, got {' '.join(words)!r}") from None


def _center(positions: np.ndarray, box: freud.box.Box, origin: str, where: str) -> np.ndarray:
    if origin == "center":
        return positions
    if origin != "corner":
        raise ValueError(f"origin must be 'corner' or 'center', got {origin!r}")
    dim = positions.shape[1]
    matrix = np.asarray(box.to_matrix(), dtype=float)[:dim, :dim]
    return positions - matrix.sum(axis=1) / 2


def _copy(box: freud.box.Box) -> freud.box.Box:
    copy = freud.box.Box.from_box(box)
    copy.periodic = [bool(flag) for flag in box.periodic]
    return copy


def checked_system(path: Path, positions: np.ndarray, box: freud.box.Box, **extra) -> ParticleSystem:
    """The particle system of a file, with its name in any error, refusing coincident particles."""
    try:
        system = ParticleSystem(positions, box, **extra)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    # coincident particles (a file written twice, a duplicated row) have no defined bond directions
    _, first, counts = np.unique(system.positions, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        where = first[counts > 1].min()
        same = np.flatnonzero((system.positions == system.positions[where]).all(axis=1))
        raise ValueError(
            f"{path}: {int((counts[counts > 1] - 1).sum())} particle(s) sit exactly on another one (first: "
            f"particles {same[0]} and {same[1]}, data rows {same[0] + 1} and {same[1] + 1}); every particle "
            "needs its own position (remove duplicated rows)"
        )
    return system


def _xyz_box(comment: str, where: str) -> freud.box.Box | None:
    match = re.search(r'Lattice\s*=\s*"([^"]*)"', comment, flags=re.IGNORECASE)
    if not match:
        return None
    values = _floats(match.group(1).split(), where, "Lattice entries")
    if values.size != 9:
        raise ValueError(f"{where}: Lattice must hold 9 numbers (three box vectors), got {values.size}")
    rows = values.reshape(3, 3)
    if abs(rows[0, 1]) > 1e-9 * abs(rows[0, 0]) or abs(rows[0, 2]) > 1e-9 * abs(rows[0, 0]) \
            or abs(rows[1, 2]) > 1e-9 * abs(rows[1, 1]):
        raise ValueError(
            f"{where}: Lattice vectors must be in LAMMPS form (a1 along x, a2 in the xy plane), "
            f"got {match.group(1)!r}; rotate the configuration first"
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{where}: Lattice entries must be finite numbers, got {match.group(1)!r}")
    if rows[0, 0] <= 0 or rows[1, 1] <= 0 or rows[2, 2] <= 0:
        raise ValueError(f"{where}: box lengths must be > 0, got Lattice {match.group(1)!r}")
    box = freud.box.Box.from_matrix(rows.T)
    pbc = re.search(r'pbc\s*=\s*"([^"]*)"', comment, flags=re.IGNORECASE)
    if pbc:
        box.periodic = _bools(pbc.group(1), where, 3)
    return box


def _xyz_columns(comment: str, where: str) -> tuple[int, int]:
    """Columns of the species and of x (x, y, z follow) from an extended-XYZ ``Properties``
    (``name:type:count`` triples, e.g. ``species:S:1:pos:R:3``); (0, 1) without one."""
    match = re.search(r"Properties\s*=\s*(\S+)", comment, flags=re.IGNORECASE)
    if match is None:
        return 0, 1
    fields = match.group(1).strip('"').split(":")
    if len(fields) % 3 or not all(count.isdigit() for count in fields[2::3]):
        raise ValueError(f"{where}: Properties must be name:type:count triples, got {match.group(1)!r}")
    columns, at = {}, 0
    for name, kind, count in zip(fields[::3], fields[1::3], fields[2::3]):
        columns[name.lower()] = (at, kind.upper(), int(count))
        at += int(count)
    if "pos" not in columns or columns["pos"][1:] != ("R", 3):
        raise ValueError(f"{where}: Properties has no 'pos:R:3' column (the coordinates), got {match.group(1)!r}")
    names = [name for name in ("species", "element", "type") if name in columns]
    if not names:
        raise ValueError(f"{where}: Properties has no species column ('species:S:1'), got {match.group(1)!r}")
    return columns[names[0]][0], columns["pos"][0]


def read_xyz(
    path: str | Path, *, box: freud.box.Box | None = None, origin: str = "corner"
) -> ParticleSystem:
    """Read the first frame of an XYZ file.

    Parameters
    ----------
    path : str or Path
        File (module notes for the format).
    box : freud.box.Box, optional
        Box for a plain XYZ file; an extended-XYZ ``Lattice`` in the file takes precedence.
    origin : {"corner", "center"}, default "corner"
        Where the coordinates' box starts (module notes).

    Returns
    -------
    ParticleSystem
        3D system with ``species`` from the first column, no labels.

    Raises
    ------
    ValueError
        Empty or truncated file, a count that is not an integer, unparsable coordinates, no
        box, NaN coordinates, particles outside a non-periodic box.
    """
    path = Path(path)
    lines = _text_lines(path)
    if not lines or not lines[0].strip():
        raise ValueError(f"{path}: empty file; an XYZ file starts with the particle count")
    try:
        n = int(lines[0].split()[0])
    except ValueError:
        raise ValueError(
            f"{path}, line 1: expected the particle count (an integer), got {lines[0].strip()!r}"
        ) from None
    if n < 1:
        raise ValueError(f"{path}, line 1: the particle count must be >= 1, got {n}")
    comment = lines[1] if len(lines) > 1 else ""
    body = lines[2 : 2 + n]
    if len(body) < n or any(not line.strip() for line in body):
        found = sum(1 for line in body if line.strip())
        raise ValueError(f"{path}: line 1 declares {n} particles but only {found} particle lines follow")
    rest = [line for line in lines[2 + n :] if line.strip()]
    if rest and not re.fullmatch(r"\s*\d+\s*", rest[0]):  # only a next frame (a count line) may follow
        raise ValueError(
            f"{path}: line 1 declares {n} particles but {n + len(rest)} particle lines follow; "
            "the count must equal the particle lines (a next frame would start with its own count)"
        )
    file_box = _xyz_box(comment, f"{path}, line 2")
    box = file_box or box
    if box is None:
        raise ValueError(
            f"{path}: no box; give line 2 an extended-XYZ Lattice=\"ax ay az bx by bz cx cy cz\" "
            "(with pbc=\"T T T\" if needed) or pass box="
        )
    name_at, pos_at = _xyz_columns(comment, f"{path}, line 2")
    species, coords = [], np.empty((n, 3))
    for k, line in enumerate(body):
        words = line.split()
        if len(words) < max(name_at + 1, pos_at + 3):
            raise ValueError(
                f"{path}, line {k + 3}: expected 'species x y z', got {line.strip()!r}"
            )
        species.append(words[name_at])
        coords[k] = _floats(words[pos_at:pos_at + 3], f"{path}, line {k + 3}", "coordinates x y z")
    return checked_system(path, _center(coords, box, origin, str(path)), box, species=np.array(species))


def read_csv(
    path: str | Path, *, box: freud.box.Box | None = None, origin: str = "center"
) -> ParticleSystem:
    """Read a CSV file of positions whose ``#`` header lines give the box.

    Parameters
    ----------
    path : str or Path
        File (module notes for the format).
    box : freud.box.Box, optional
        Box when the file has no ``# box:`` line (the file's line takes precedence).
    origin : {"center", "corner"}, default "center"
        Where the coordinates' box starts (module notes).

    Returns
    -------
    ParticleSystem
        2D or 3D system, with ``labels`` and ``species`` when those columns exist.

    Raises
    ------
    ValueError
        Missing or malformed box, missing coordinate columns, unparsable numbers, NaN
        coordinates, particles outside a non-periodic box.
    """
    path = Path(path)
    lines = _text_lines(path)
    header_at = next(
        (k for k, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")),
        None,
    )
    if header_at is None:
        raise ValueError(f"{path}: no column header; expected a line such as 'x,y,z'")
    file_box, periodic = None, None
    for k, line in enumerate(lines[:header_at]):
        text = line.lstrip("# \t")
        key, _, value = text.partition(":")
        where = f"{path}, line {k + 1}"
        if key.strip().lower() == "box":
            if file_box is not None:
                raise ValueError(f"{where}: a second '# box:' line; give the box once")
            numbers = _floats(value.split(), where, "box lengths")
            if numbers.size not in (2, 3, 6) or not np.isfinite(numbers).all() \
                    or not (numbers[: min(3, numbers.size)] > 0).all():
                raise ValueError(
                    f"{where}: box must be 'Lx Ly' (2D), 'Lx Ly Lz' or 'Lx Ly Lz xy xz yz' with "
                    f"lengths > 0 (finite numbers), got {value.strip()!r}"
                )
            if numbers.size == 2:
                file_box = freud.box.Box(Lx=numbers[0], Ly=numbers[1], is2D=True)
            else:
                file_box = freud.box.Box(*numbers)
        elif key.strip().lower() == "periodic":
            periodic = (value, where)
    box = file_box or (None if box is None else _copy(box))
    if box is None:
        raise ValueError(
            f"{path}: no box; add a header line '# box: Lx Ly Lz' (or 'Lx Ly' for 2D) or pass box="
        )
    dim = 2 if box.is2D else 3
    if periodic is not None:
        flags = _bools(periodic[0], periodic[1], dim)
        box.periodic = flags + [True] * (3 - dim)
    rows = list(csv.reader(lines[header_at:]))
    columns = [c.strip().lower() for c in rows[0]]
    needed = ["x", "y", "z"][:dim]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ValueError(
            f"{path}, line {header_at + 1}: missing column(s) {', '.join(missing)}; a {dim}D box "
            f"needs {', '.join(needed)} (optional: label, species), got {', '.join(columns)}"
        )
    data = [(k, row) for k, row in enumerate(rows[1:], start=header_at + 2)
            if any(c.strip() for c in row)]
    if not data:
        raise ValueError(f"{path}: no particle rows after the column header")
    if dim == 2 and "z" in columns:
        raise ValueError(
            f"{path}, line {header_at + 1}: the box line gives a 2D box (Lx Ly) but the columns "
            "include z; give '# box: Lx Ly Lz' for 3D particles, or drop the z column for 2D"
        )
    index = {c: columns.index(c) for c in columns}
    coords = np.empty((len(data), dim))
    for m, (k, row) in enumerate(data):
        if len(row) != len(columns):
            raise ValueError(
                f"{path}, line {k}: {len(row)} fields but the header has {len(columns)}"
            )
        coords[m] = _floats([row[index[c]] for c in needed], f"{path}, line {k}", "coordinates")
    extra = {}
    for name in ("label", "species"):
        if name in index:
            values = np.array([row[index[name]].strip() for _, row in data])
            extra["labels" if name == "label" else name] = values
    return checked_system(path, _center(coords, box, origin, str(path)), box, **extra)
