"""Track tables: read a CSV of positions and check it at the boundary.

A track table has trackpy's column names: ``frame`` (integer ≥ 0), ``x`` and ``y`` (position,
px or µm; the unit is the caller's) and, once linked, ``particle`` (integer track id). Extra
columns (``mass``, ``population``, …) are kept. Every problem is a :class:`ValueError` saying what
is wrong, where (the line of the file, or the row of a table) and what is allowed.

Two bounds keep corrupt rows out of the arithmetic: positions must lie within
± :data:`MAX_COORDINATE` (10⁹ of the file's unit: a 1 m field in nm, 10⁴ times the widest
camera mosaic in px; squares of larger numbers lose every digit of a sub-pixel step in float64,
and near 10¹⁵⁴ they overflow), and frame numbers must be at most :data:`MAX_FRAME` (2⁵³, the
largest integer a CSV number is read into exactly).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

__all__ = ["MAX_COORDINATE", "MAX_FRAME", "POSITION_COLUMNS", "TRACK_COLUMNS", "check_tracks", "read_tracks"]

#: Columns every detection table needs: frame (integer ≥ 0), x, y (length).
POSITION_COLUMNS = ("frame", "x", "y")
#: Columns of a linked track table.
TRACK_COLUMNS = ("frame", "x", "y", "particle")

_NEEDED = "frame, x, y (and optionally particle)"
#: Largest |x| or |y| accepted, in the unit of the positions (module docstring).
MAX_COORDINATE = 1e9
#: Largest frame number accepted (2⁵³: exact in float64).
MAX_FRAME = 2**53


def read_tracks(source: str | Path | bytes | IO[str] | IO[bytes], *, require_particle: bool = False,
                max_rows: int | None = None) -> pd.DataFrame:
    """Read and check a CSV of detections or tracks.

    Parameters
    ----------
    source : str, Path, bytes or file object
        A path, the bytes of an upload, or an open file. The first line names the columns;
        names are matched case-insensitively after stripping spaces.
    require_particle : bool, default False
        Refuse a file without a ``particle`` column.
    max_rows : int or None
        Refuse files with more data rows than this.

    Returns
    -------
    pandas.DataFrame
        As :func:`check_tracks`.

    Raises
    ------
    ValueError
        An empty or unreadable file, or any problem listed in :func:`check_tracks` (with the line
        of the file: the header is line 1).
    """
    handle = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    try:
        table = pd.read_csv(handle, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"the CSV file is empty; it needs a header line with the columns {_NEEDED} "
                         "and one line per detection") from None
    except pd.errors.ParserError as error:
        raise ValueError(f"not a readable CSV file ({str(error).strip()}); expected comma-separated "
                         f"columns {_NEEDED} with one line per detection") from None
    except UnicodeDecodeError:
        raise ValueError("not a text CSV file (it could not be decoded as UTF-8); expected comma-separated "
                         f"columns {_NEEDED}") from None
    if max_rows is not None and len(table) > max_rows:
        raise ValueError(f"the CSV file has {len(table)} rows; at most {max_rows} are allowed")
    return _check(table, require_particle, lambda i: f"line {i + 2}")


def check_tracks(table: pd.DataFrame, *, require_particle: bool = False) -> pd.DataFrame:
    """Check a table of detections or tracks and return a clean copy.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``frame, x, y`` and optionally ``particle``; extra columns are allowed.
    require_particle : bool, default False
        Refuse a table without a ``particle`` column.

    Returns
    -------
    pandas.DataFrame
        A copy with ``frame`` (int64), ``x, y`` (float64), ``particle`` (int64, if present) and the
        extra columns; the index is reset. With a particle column the rows are sorted by particle,
        then frame; otherwise by frame (stable).

    Raises
    ------
    ValueError
        No rows; a missing column; column names that clash after normalising; a non-numeric,
        missing (NaN) or infinite value in ``frame, x, y, particle``; a negative, non-integer or
        too large (> :data:`MAX_FRAME`) frame; a non-integer particle id; a position beyond
        ± :data:`MAX_COORDINATE`; the same particle twice in one frame.
    """
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"tracks must be a pandas DataFrame with columns {_NEEDED}; got {type(table).__name__}")
    return _check(table.reset_index(drop=True), require_particle, lambda i: f"row {i}")


def _check(table: pd.DataFrame, require_particle: bool, where: Callable[[int], str]) -> pd.DataFrame:
    names = [str(c).strip() for c in table.columns]
    lowered = [n.lower() for n in names]
    for name in (*POSITION_COLUMNS, "particle"):
        if lowered.count(name) > 1:
            raise ValueError(f"column {name!r} appears {lowered.count(name)} times (names are matched "
                             "case-insensitively); give each column once")
    renamed = {old: (low if low in TRACK_COLUMNS else new) for old, new, low in zip(table.columns, names, lowered)}
    table = table.rename(columns=renamed)
    needed = TRACK_COLUMNS if require_particle else POSITION_COLUMNS
    missing = [c for c in needed if c not in table.columns]
    if missing:
        found = ", ".join(map(str, table.columns)) or "none"
        raise ValueError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; needed: "
                         f"{'frame, x, y, particle' if require_particle else _NEEDED}; found: {found}")
    if table.empty:
        raise ValueError(f"the table has a header but no rows; it needs one row per detection with {_NEEDED}")
    out = table.copy()
    columns = [c for c in TRACK_COLUMNS if c in table.columns]
    for column in columns:
        out[column] = _numbers(table[column], column, where)
    for column in ("frame", "particle"):
        if column not in out:
            continue
        values = out[column].to_numpy()
        bad = np.flatnonzero(values != np.round(values))
        if bad.size:
            raise ValueError(f"column {column!r} must hold whole numbers; {where(int(bad[0]))} has "
                             f"{_show(table[column].iloc[bad[0]])}")
        if column == "frame" and (values < 0).any():
            i = int(np.flatnonzero(values < 0)[0])
            raise ValueError(f"column 'frame' must hold integers >= 0; {where(i)} has {_show(table[column].iloc[i])}")
        if (np.abs(values) > MAX_FRAME).any():
            i = int(np.flatnonzero(np.abs(values) > MAX_FRAME)[0])
            raise ValueError(f"column {column!r} must hold integers up to 2^53 = {MAX_FRAME}; {where(i)} has "
                             f"{_show(table[column].iloc[i])}")
        out[column] = values.astype(np.int64)
    for column in ("x", "y"):
        far = np.abs(out[column].to_numpy()) > MAX_COORDINATE
        if far.any():
            i = int(np.flatnonzero(far)[0])
            raise ValueError(f"column {column!r} has {_show(table[column].iloc[i])} at {where(i)}; positions must "
                             f"lie within ±{MAX_COORDINATE:.0e} (px or µm; no microscope field is that wide): "
                             "corrupt data?")
    if "particle" in out:
        twice = out.duplicated(["frame", "particle"], keep=False).to_numpy()
        if twice.any():
            rows = np.flatnonzero(twice)
            first = out.iloc[rows[0]]
            same = rows[(out["frame"].to_numpy()[rows] == first["frame"])
                        & (out["particle"].to_numpy()[rows] == first["particle"])]
            raise ValueError(f"particle {int(first['particle'])} appears more than once in frame "
                             f"{int(first['frame'])} ({' and '.join(where(int(i)) for i in same[:2])}); "
                             "each particle may have one position per frame")
        return out.sort_values(["particle", "frame"], kind="stable").reset_index(drop=True)
    return out.sort_values("frame", kind="stable").reset_index(drop=True)


def _numbers(column: pd.Series, name: str, where: Callable[[int], str]) -> pd.Series:
    """``column`` as float64, or a ValueError naming the first bad cell."""
    allowed = "whole numbers" if name in ("frame", "particle") else "finite numbers"
    if pd.api.types.is_bool_dtype(column):
        raise ValueError(f"column {name!r} holds true/false values; {name} must hold {allowed}")
    if pd.api.types.is_numeric_dtype(column):
        values = column.astype(float)
        blank = values.isna().to_numpy()
        not_number = np.zeros(len(column), dtype=bool)
    else:
        values = pd.to_numeric(column, errors="coerce")
        failed = values.isna().to_numpy()
        blank = column.isna().to_numpy().copy()
        text = column[failed & ~blank].astype(str).str.strip().str.lower()
        blank[np.flatnonzero(failed & ~blank)[text.isin(["", "nan", "na", "n/a", "null", "none"]).to_numpy()]] = True
        not_number = failed & ~blank
    if not_number.any():
        i = int(np.flatnonzero(not_number)[0])
        raise ValueError(f"column {name!r} has a non-numeric value {_show(column.iloc[i])} at {where(i)}; "
                         f"{name} must hold {allowed}")
    values = values.astype(float)
    missing = blank | ~np.isfinite(values.to_numpy())
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        what = "a missing value (empty or NaN)" if blank[i] or np.isnan(values.iloc[i]) else "an infinite value"
        raise ValueError(f"column {name!r} has {what} at {where(i)}; {name} must hold {allowed} in every row")
    return values


def _show(value: object) -> str:
    """A cell as the user wrote it: numbers plain, text quoted."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if not isinstance(value, int | float) else f"{value:g}"
