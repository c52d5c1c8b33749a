"""Read particle configurations: XYZ (plain or extended) and CSV with a box header.

XYZ (first frame only)::

    3
    Lattice="10 0 0 0 10 0 0 0 10" pbc="T T T" Origin="0 0 0"
    A 0.5 1.0 2.0
    ...

Line 1 is the particle count, line 2 a comment; if it holds an extended-XYZ ``Lattice`` (three
box vectors, row by row: a1 along x, a2 in the xy plane, as LAMMPS and freud require) and
optionally ``pbc`` (default all periodic) and ``Origin`` (the box corner, as OVITO writes it),
they give the box, otherwise pass ``box``. Values may be quoted with ``"`` or ``'``. Each
particle line is ``species x y z`` (further columns are ignored; an extended-XYZ
``Properties`` says which columns hold the species and ``pos``). XYZ files are 3D; write a 2D
configuration as CSV.

CSV (``#`` lines before the column header carry the box; later ``#`` lines are comments)::

    # box: 10 10 10            (Lx Ly → 2D; Lx Ly Lz; or Lx Ly Lz xy xz yz, freud tilts)
    # periodic: true true false (optional; default all periodic)
    x,y,z,label,species         (x, y [, z] required; label and species optional)
    0.5,1.0,2.0,fcc,A

``key = value`` works as well as ``key: value``. Columns are separated by commas, or
semicolons, or tabs, or spaces, whichever the header line uses. The tilts are freud's (and
HOOMD's) dimensionless tilt factors, ``xy = a2x / Ly``, ``xz = a3x / Lz``, ``yz = a3y / Lz``
— not LAMMPS's tilt lengths ``xy``, ``xz``, ``yz`` (divide those by ``Ly``, ``Lz``, ``Lz``);
a tilted 2D box is ``Lx Ly 0 xy 0 0`` (HOOMD's convention, ``Lz = 0``). A ``label`` or
``species`` column must fill every row or none (an empty column is dropped).

Coordinates: ``origin="corner"`` means the box spans ``[0, L)`` along each axis (the
extended-XYZ and LAMMPS convention; the default for XYZ), ``"center"`` that it spans
``[-L/2, L/2)`` (freud's; the default for CSV); an XYZ ``Origin`` takes precedence.
Coordinates are returned centred. Lengths are in the file's units. The positions follow the
rules of :class:`~.systems.ParticleSystem` (finite; inside a non-periodic box; at most 1000 box
lengths outside a periodic one; no two particles within a millionth of the mean spacing).
Every problem raises ``ValueError`` naming the file, the line and what is allowed, and quotes
coordinates as the file writes them.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import freud
import numpy as np

from .systems import ParticleSystem, Source

__all__ = ["checked_system", "read_xyz", "read_csv"]

_TRUE = {"t", "true", "1", "yes"}
_FALSE = {"f", "false", "0", "no"}


def _text_lines(path: Path) -> list[str]:
    """The file's lines, without the byte-order mark spreadsheet programs put first ("CSV UTF-8")."""
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise ValueError(f"{path}: not a text file (it holds NUL bytes); XYZ and CSV configurations are text")
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff").splitlines()


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


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _offset(box: freud.box.Box, origin: str, dim: int) -> np.ndarray:
    """Where the box centre lies in the file's coordinates."""
    if origin == "center":
        return np.zeros(dim)
    if origin != "corner":
        raise ValueError(f"origin must be 'corner' or 'center', got {origin!r}")
    matrix = np.asarray(box.to_matrix(), dtype=float)[:dim, :dim]
    return matrix.sum(axis=1) / 2


def _copy(box: freud.box.Box) -> freud.box.Box:
    copy = freud.box.Box.from_box(box)
    copy.periodic = [bool(flag) for flag in box.periodic]
    return copy


def checked_system(
    path: Path | str, positions: np.ndarray, box: freud.box.Box, *, lines: np.ndarray | None = None,
    centre: np.ndarray | None = None, **extra,
) -> ParticleSystem:
    """The particle system of a file, every refusal naming the file.

    Parameters
    ----------
    path : Path or str
        The file (and frame); every message starts with it.
    positions : ndarray, shape (N, d)
        Coordinates as the file gives them.
    box : freud.box.Box
        Its box.
    lines : ndarray of int, shape (N,), optional
        Line of each particle (messages name it; otherwise the particle index from 0).
    centre : ndarray, shape (d,), optional
        Where the box centre lies in the file's coordinates (default the origin); subtracted
        from the positions.
    **extra
        ``labels``, ``species``.

    Raises
    ------
    ValueError
        Whatever :class:`~.systems.ParticleSystem` refuses (NaN, outside a non-periodic box, far
        outside a periodic one, particles on or next to another), quoting the file's lines and
        coordinates.
    """
    positions = np.asarray(positions, dtype=float)
    source = Source(str(path), lines=lines, coordinates=positions, centre=centre)
    shifted = positions if centre is None or positions.ndim != 2 else positions - centre
    try:
        return ParticleSystem(shifted, box, source=source, **extra)
    except ValueError as error:
        message = str(error)
        raise ValueError(message if message.startswith(f"{path}") else f"{path}: {message}") from None


def _key_value(comment: str, key: str, where: str) -> str | None:
    """The value of ``key=value`` in an extended-XYZ comment line (quoted with " or ', or bare)."""
    match = re.search(rf"(?:^|\s){key}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|(\S+))", comment, flags=re.IGNORECASE)
    if match is None:
        return None
    quoted = next((g for g in match.groups() if g is not None), "")
    if match.group(3) is not None and quoted[:1] in ("\"", "'"):
        raise ValueError(f"{where}: the quotes of {key}= are not closed, got {quoted!r}")
    return quoted


def _xyz_box(comment: str, where: str) -> tuple[freud.box.Box | None, np.ndarray | None]:
    """Box from ``Lattice`` (and ``pbc``), and the box corner from ``Origin`` (None if absent)."""
    text = _key_value(comment, "Lattice", where)
    if text is None:
        return None, None
    values = _floats(text.split(), where, "Lattice entries")
    if values.size != 9:
        raise ValueError(f"{where}: Lattice must hold 9 numbers (three box vectors), got {values.size}")
    if not np.isfinite(values).all():
        raise ValueError(f"{where}: Lattice entries must be finite numbers, got {text!r}")
    rows = values.reshape(3, 3)
    if abs(rows[0, 1]) > 1e-9 * abs(rows[0, 0]) or abs(rows[0, 2]) > 1e-9 * abs(rows[0, 0]) \
            or abs(rows[1, 2]) > 1e-9 * abs(rows[1, 1]):
        raise ValueError(
            f"{where}: Lattice vectors must be in LAMMPS form (a1 along x, a2 in the xy plane), "
            f"got {text!r}; rotate the configuration first"
        )
    if rows[0, 0] <= 0 or rows[1, 1] <= 0 or rows[2, 2] <= 0:
        raise ValueError(f"{where}: box lengths must be > 0, got Lattice {text!r}")
    box = freud.box.Box.from_matrix(rows.T)
    pbc = _key_value(comment, "pbc", where)
    if pbc is not None:
        box.periodic = _bools(pbc, where, 3)
    origin = _key_value(comment, "Origin", where)
    corner = None
    if origin is not None:
        corner = _floats(origin.split(), where, "Origin entries")
        if corner.size != 3 or not np.isfinite(corner).all():
            raise ValueError(f"{where}: Origin must hold 3 finite numbers (the box corner x y z), got {origin!r}")
    return box, corner


def _xyz_columns(comment: str, where: str) -> tuple[int, int]:
    """Columns of the species and of x (x, y, z follow) from an extended-XYZ ``Properties``
    (``name:type:count`` triples, e.g. ``species:S:1:pos:R:3``); (0, 1) without one."""
    text = _key_value(comment, "Properties", where)
    if text is None:
        return 0, 1
    fields = text.split(":")
    if len(fields) % 3 or not all(count.isdigit() for count in fields[2::3]):
        raise ValueError(f"{where}: Properties must be name:type:count triples, got {text!r}")
    columns, at = {}, 0
    for name, kind, count in zip(fields[::3], fields[1::3], fields[2::3]):
        columns[name.lower()] = (at, kind.upper(), int(count))
        at += int(count)
    if "pos" not in columns or columns["pos"][1:] != ("R", 3):
        raise ValueError(f"{where}: Properties has no 'pos:R:3' column (the coordinates), got {text!r}")
    names = [name for name in ("species", "element", "type") if name in columns]
    if not names:
        raise ValueError(f"{where}: Properties has no species column ('species:S:1'), got {text!r}")
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
        Where the coordinates' box starts (module notes); an ``Origin`` in the file takes
        precedence.

    Returns
    -------
    ParticleSystem
        3D system with ``species`` from the first column, no labels.

    Raises
    ------
    ValueError
        Empty, binary or truncated file, a count that is not an integer, blank or short
        particle lines, unparsable coordinates, no box, and positions a
        :class:`~.systems.ParticleSystem` refuses (module notes); the message names the file and
        line and quotes the file's coordinates.
    """
    path = Path(path)
    if origin not in ("corner", "center"):
        raise ValueError(f"origin must be 'corner' or 'center', got {origin!r}")
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
    blank = next((k for k, line in enumerate(body) if not line.strip()), None)
    if blank is not None and any(line.strip() for line in body[blank:]):
        raise ValueError(f"{path}, line {blank + 3}: a blank line among the particle lines (line 1 declares "
                         f"{n} particles, on lines 3 to {n + 2}); remove it")
    if len(body) < n or blank is not None:
        found = sum(1 for line in body if line.strip())
        raise ValueError(f"{path}: line 1 declares {n} particles but only {found} particle lines follow")
    rest = [line for line in lines[2 + n :] if line.strip()]
    if rest and not re.fullmatch(r"\s*\d+\s*", rest[0]):  # only a next frame (a count line) may follow
        raise ValueError(
            f"{path}: line 1 declares {n} particles but {n + len(rest)} particle lines follow; "
            "the count must equal the particle lines (a next frame would start with its own count)"
        )
    file_box, corner = _xyz_box(comment, f"{path}, line 2")
    box = file_box or box
    if box is None:
        raise ValueError(
            f"{path}: no box; give line 2 an extended-XYZ Lattice=\"ax ay az bx by bz cx cy cz\" "
            "(with pbc=\"T T T\" if needed) or pass box="
        )
    if box.is2D:
        raise ValueError(f"{path}: a 2D box; XYZ files are 3D, write a 2D configuration as CSV with '# box: Lx Ly'")
    name_at, pos_at = _xyz_columns(comment, f"{path}, line 2")
    species, coords = [], np.empty((n, 3))
    for k, line in enumerate(body):
        words = line.split()
        if len(words) < max(name_at + 1, pos_at + 3):
            numeric = [_is_number(w) for w in words]
            hint = ""
            if len(words) == 3 and all(numeric):
                hint = " (three numbers and no species: the first column must name the species)"
            elif len(words) == 3 and numeric == [False, True, True]:
                hint = (" (XYZ files are 3D: a species and three coordinates; write a 2D configuration as CSV "
                        "with '# box: Lx Ly')")
            raise ValueError(
                f"{path}, line {k + 3}: expected 'species x y z', got {line.strip()!r}{hint}"
            )
        species.append(words[name_at])
        coords[k] = _floats(words[pos_at:pos_at + 3], f"{path}, line {k + 3}", "coordinates x y z")
    matrix = np.asarray(box.to_matrix(), dtype=float)
    centre = (corner + matrix.sum(axis=1) / 2) if corner is not None else _offset(box, origin, 3)
    return checked_system(path, coords, box, lines=np.arange(3, n + 3), centre=centre,
                          species=np.array(species))


def _csv_box(value: str, where: str) -> freud.box.Box:
    numbers = _floats(value.split(), where, "box lengths")
    allowed = ("box must be 'Lx Ly' (2D), 'Lx Ly Lz', 'Lx Ly Lz xy xz yz' (3D, freud tilt factors) or "
               "'Lx Ly 0 xy 0 0' (tilted 2D) with lengths > 0 (finite numbers)")
    if numbers.size not in (2, 3, 6) or not np.isfinite(numbers).all():
        raise ValueError(f"{where}: {allowed}, got {value.strip()!r}")
    flat = numbers.size == 6 and numbers[2] == 0
    lengths = numbers[:2] if numbers.size == 2 or flat else numbers[:3]
    if not (lengths > 0).all() or (flat and (numbers[4] != 0 or numbers[5] != 0)):
        raise ValueError(f"{where}: {allowed}, got {value.strip()!r}")
    if numbers.size == 2:
        return freud.box.Box(Lx=numbers[0], Ly=numbers[1], is2D=True)
    if flat:
        return freud.box.Box(Lx=numbers[0], Ly=numbers[1], xy=numbers[3], is2D=True)
    return freud.box.Box(*numbers)


def _delimiter(header: str) -> str | None:
    """The column separator the header line uses: comma, semicolon, tab, or None (spaces)."""
    return next((d for d in (",", ";", "\t") if d in header), None)


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
        Missing or malformed box, a binary file, missing or repeated coordinate columns,
        unparsable numbers, partly empty label or species columns, and positions a
        :class:`~.systems.ParticleSystem` refuses (module notes); the message names the file
        and line and quotes the file's coordinates.
    """
    path = Path(path)
    if origin not in ("corner", "center"):
        raise ValueError(f"origin must be 'corner' or 'center', got {origin!r}")
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
        match = re.match(r"\s*(box|periodic)\s*[:=](.*)$", text, flags=re.IGNORECASE)
        if match is None:
            continue
        key, value = match.group(1).lower(), match.group(2)
        where = f"{path}, line {k + 1}"
        if key == "box":
            if file_box is not None:
                raise ValueError(f"{where}: a second '# box:' line; give the box once")
            file_box = _csv_box(value, where)
        else:
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
    delimiter = _delimiter(lines[header_at])
    body = [(k, line) for k, line in enumerate(lines[header_at:], start=header_at + 1)
            if line.strip() and not line.lstrip().startswith("#")]
    texts = [line for _, line in body]
    rows = (list(csv.reader(texts, delimiter=delimiter)) if delimiter is not None
            else [line.split() for line in texts])
    columns = [c.strip().lower() for c in rows[0]]
    needed = ["x", "y", "z"][:dim]
    where = f"{path}, line {header_at + 1}"
    missing = [c for c in needed if c not in columns]
    if missing:
        numeric = all(re.fullmatch(r"\s*[-+]?[\d.]+([eE][-+]?\d+)?\s*", c) for c in columns)
        hint = ("; the first line after the '#' lines must name the columns" if numeric else "")
        raise ValueError(
            f"{where}: missing column(s) {', '.join(missing)}; a {dim}D box "
            f"needs {', '.join(needed)} (optional: label, species), got {', '.join(columns)}{hint}"
        )
    repeated = sorted({c for c in columns if c in ("x", "y", "z", "label", "species") and columns.count(c) > 1})
    if repeated:
        raise ValueError(f"{where}: column(s) {', '.join(repeated)} appear more than once; name each column once")
    data = [(k, row) for (k, _), row in zip(body[1:], rows[1:]) if any(c.strip() for c in row)]
    if not data:
        raise ValueError(f"{path}: no particle rows after the column header")
    if dim == 2 and "z" in columns:
        raise ValueError(
            f"{where}: the box line gives a 2D box (Lx Ly) but the columns "
            "include z; give '# box: Lx Ly Lz' for 3D particles, or drop the z column for 2D"
        )
    index = {c: columns.index(c) for c in columns}
    coords = np.empty((len(data), dim))
    for m, (k, row) in enumerate(data):
        if len(row) != len(columns):
            raise ValueError(
                f"{path}, line {k}: {len(row)} fields but the header has {len(columns)}"
            )
        for a, name in enumerate(needed):
            field = row[index[name]].strip()
            try:
                coords[m, a] = float(field)
            except ValueError:
                shown = "an empty field" if not field else repr(field)
                raise ValueError(f"{path}, line {k}: coordinates must be numbers, got {name} = {shown}") from None
    extra = {}
    for name in ("label", "species"):
        if name in index:
            values = np.array([row[index[name]].strip() for _, row in data])
            empty = values == ""
            if empty.all():
                continue  # an empty column: no labels (species) at all
            if empty.any():
                k = data[int(np.flatnonzero(empty)[0])][0]
                raise ValueError(
                    f"{path}, line {k}: empty {name} ({int(empty.sum())} of {len(values)} rows); give every "
                    f"particle a {name} or leave the whole column empty"
                )
            extra["labels" if name == "label" else name] = values
    return checked_system(path, coords, box, lines=np.array([k for k, _ in data]),
                          centre=_offset(box, origin, dim), **extra)
