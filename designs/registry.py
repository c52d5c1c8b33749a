"""Design spaces by name: rebuild a stored ``(space, genome)`` record as a design object.

Also the one reader of design files (:func:`parse_designs`): a JSON list or JSON lines of
``{"space": ..., "genome": ...}`` records, as the command line reads them, the design library
page uploads them and :func:`engine.library.designs_json` writes them. It checks every record
and reports every bad one (its number and why), so a file is either read whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from designs.base import Design
from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.spinodal import Spinodoid

__all__ = ["DESIGN_SPACES", "DesignFileError", "RecordProblem", "design_from_record", "parse_designs", "read_designs"]

#: Read-only map: design space name → design class (each has ``from_json(genome)``).
DESIGN_SPACES: Mapping[str, type] = MappingProxyType(
    {cls.space: cls for cls in (Checkerboard, Hierarchical, Spinodoid)}
)
#: Problems spelled out in a :class:`DesignFileError` message; ``problems`` holds them all.
_MESSAGE_PROBLEMS = 20


def design_from_record(space: str, genome: Any) -> Design:
    """Build the design of space ``space`` from its genome; ``ValueError`` if either is invalid."""
    try:
        cls = DESIGN_SPACES[space]
    except (KeyError, TypeError):
        raise ValueError(f"unknown design space {space!r}; known: {', '.join(sorted(DESIGN_SPACES))}") from None
    return cls.from_json(genome)


@dataclass(frozen=True)
class RecordProblem:
    """Why one record of a design file (or the file as a whole) cannot be read.

    Attributes
    ----------
    number : int or None
        1-based number of the record (design) in the file; None for a problem of the whole file.
    line : int or None
        1-based line of the record in a JSON-lines file; None in a JSON list.
    reason : str
        What is wrong and what is allowed.
    """

    number: int | None
    line: int | None
    reason: str

    def __str__(self) -> str:
        if self.number is None:
            return self.reason
        where = f"design {self.number}" + ("" if self.line is None else f" (line {self.line})")
        return f"{where}: {self.reason}"


class DesignFileError(ValueError):
    """A design file that cannot be read; ``problems`` lists every bad record (or the file's problem).

    The message names the source and the first problems; ``records`` is the number of records
    found (0 when the file itself could not be read as JSON).
    """

    def __init__(self, source: str, problems: list[RecordProblem], records: int = 0) -> None:
        self.source = source
        self.problems = tuple(problems)
        self.records = records
        if len(problems) == 1 and problems[0].number is None:
            message = f"{source} {problems[0].reason}"
        else:
            shown = "; ".join(str(p) for p in problems[:_MESSAGE_PROBLEMS])
            more = len(problems) - _MESSAGE_PROBLEMS
            message = (f"{source}: {len(problems)} of {records} designs are invalid, so none was read: {shown}"
                       + (f"; and {more} more" if more > 0 else ""))
        super().__init__(message)


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, with its article ("a list", "an object", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), "a number")


def _entries(text: str) -> tuple[list[tuple[int | None, Any]], list[RecordProblem]]:
    """Records ``(line, value)`` of a JSON list or JSON-lines text, and the problems met reading them."""
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        whole, error = None, exc
    else:
        if isinstance(whole, list):
            return [(None, value) for value in whole], []
        if isinstance(whole, dict):
            return [(None, whole)], []
        return [], [RecordProblem(None, None, "is not a list of designs: expected a JSON list or JSON lines of "
                                              f'{{"space": ..., "genome": ...}} objects, got {_json_type(whole)}')]
    if text.lstrip().startswith("[") or "\n" not in text.strip():
        return [], [RecordProblem(None, None, f"is not JSON or JSON lines: {error}")]
    entries, problems = [], []
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    for line, raw in lines:
        try:
            entries.append((line, json.loads(raw)))
        except json.JSONDecodeError as exc:
            entries.append((line, None))
            problems.append(RecordProblem(len(entries), line, f"is not JSON: {exc.msg} at column {exc.colno}"))
    if len(problems) == len(entries):
        return [], [RecordProblem(None, None, f"is not JSON or JSON lines: line {lines[0][0]}: {error}")]
    return entries, problems


def parse_designs(
    text: str | bytes,
    source: str = "the file",
    default_space: str | None = None,
    max_bytes: int | None = None,
) -> list[Design]:
    """Read designs from the text of a JSON file (a list) or a JSON-lines file (one design per line).

    Parameters
    ----------
    text : str or bytes
        The file's content (bytes are decoded as UTF-8).
    source : str
        Name of the file in messages.
    default_space : str, optional
        Space of bare genomes (entries without ``space`` and ``genome`` keys, e.g. the output
        of ``Checkerboard.to_json``); without it every entry needs both keys.
    max_bytes : int, optional
        Largest accepted size of ``text`` in bytes (UTF-8); None: no limit.

    Returns
    -------
    list of Design
        The designs in file order (a design listed twice is returned twice).

    Raises
    ------
    DesignFileError
        A ``ValueError`` listing every problem: text too large, not UTF-8, empty, not JSON; or
        each record that is not JSON, not an object, lacks ``space``/``genome``, names an
        unknown space or holds an invalid genome (with its number). No design is returned
        when any record is bad.
    """
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if max_bytes is not None and size > max_bytes:
        raise DesignFileError(source, [RecordProblem(None, None, f"is too large: {size:,} bytes, and at most "
                                                                 f"{max_bytes:,} bytes are accepted")])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DesignFileError(source, [RecordProblem(None, None, f"is not UTF-8 text ({exc.reason} at byte "
                                                                     f"{exc.start}); save it as JSON")]) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    if not text.strip():
        raise DesignFileError(source, [RecordProblem(None, None, "holds no designs (it is empty)")])
    entries, problems = _entries(text)
    if not entries and problems:
        raise DesignFileError(source, problems)
    if not entries:
        raise DesignFileError(source, [RecordProblem(None, None, "holds no designs (an empty list)")])
    designs = []
    for number, (line, entry) in enumerate(entries, start=1):
        if entry is None and any(p.number == number for p in problems):
            continue  # not JSON: reported
        problem = _record_problem(entry, default_space)
        if isinstance(problem, str):
            problems.append(RecordProblem(number, line, problem))
        else:
            designs.append(problem)
    if problems:
        raise DesignFileError(source, sorted(problems, key=lambda p: p.number or 0), len(entries))
    return designs


def _record_problem(entry: Any, default_space: str | None) -> Design | str:
    """The design of one record, or why there is none."""
    if not isinstance(entry, dict):
        return f'expected a JSON object {{"space": ..., "genome": ...}}, got {_json_type(entry)}'
    if "space" in entry and "genome" in entry:
        space, genome = entry["space"], entry["genome"]
    elif default_space is not None:
        space, genome = default_space, entry
    else:
        missing = [key for key in ("space", "genome") if key not in entry]
        return f"needs 'space' and 'genome' keys; missing {' and '.join(repr(k) for k in missing)}"
    try:
        return design_from_record(space, genome)
    except (ValueError, TypeError, KeyError) as exc:
        return str(exc) if isinstance(exc, ValueError) else f"invalid {space} genome ({type(exc).__name__}: {exc})"


def read_designs(path: str | Path, default_space: str | None = None, max_bytes: int | None = None) -> list[Design]:
    """Read designs from a JSON file (a list) or a JSON-lines file (one design per line).

    Each entry is ``{"space": ..., "genome": {...}}``, or a bare genome when ``default_space``
    is given (e.g. the output of ``Checkerboard.to_json``). See :func:`parse_designs`.

    Raises
    ------
    ValueError
        Unreadable file, or a :class:`DesignFileError` naming every bad entry.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read designs from {file}: {exc.strerror or exc}") from None
    return parse_designs(data, str(file), default_space, max_bytes)
