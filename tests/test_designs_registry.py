"""The one reader of design files: every bad record reported with its number and reason, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.registry import DesignFileError, parse_designs, read_designs
from designs.spinodal import Spinodoid

GOOD = {"space": "checkerboard", "genome": {"grid": [[0, 1], [1, 0]]}}


def problems(text: str | bytes, **kwargs) -> list[str]:
    """The problems :func:`parse_designs` reports for ``text`` (it must refuse it)."""
    with pytest.raises(DesignFileError) as caught:
        parse_designs(text, "up.json", **kwargs)
    assert str(caught.value).startswith("up.json")
    return [str(p) for p in caught.value.problems]


def test_both_formats_give_the_designs_in_file_order() -> None:
    a, b = Checkerboard.random(4, seed=1), Hierarchical.random(2, seed=2)
    c = Spinodoid(0.4, (30.0, 0.0, 90.0), seed=3)
    records = [{"space": d.space, "genome": d.genome()} for d in (a, b, c, a)]
    listing = json.dumps(records, indent=2)  # pretty-printed over many lines
    lines = "\n".join(json.dumps(r) for r in records) + "\n\n"
    assert parse_designs(listing) == parse_designs(lines) == parse_designs(listing.encode()) == [a, b, c, a]
    assert parse_designs("\ufeff" + json.dumps(records[0])) == [a]  # a byte-order mark, a single object
    assert parse_designs(json.dumps(records[0], indent=1)) == [a]  # one object over several lines


@pytest.mark.parametrize(("text", "reason"), [
    ("", "holds no designs (it is empty)"),
    (" \n\t\n", "holds no designs (it is empty)"),
    ("[]", "holds no designs (an empty list)"),
    ("[{\"space\": \"checkerboard\",", "is not JSON or JSON lines: Expecting"),
    ("space,genome\ncheckerboard,1\n", "is not JSON or JSON lines: line 1"),
    ("42", "is not a list of designs"),
    ('"checkerboard"', "is not a list of designs: expected a JSON list or JSON lines of"),
    (b"\xff\xfe[]", "is not UTF-8 text"),
])
def test_a_file_that_is_not_a_design_file_is_one_problem(text: str | bytes, reason: str) -> None:
    found = problems(text)
    assert len(found) == 1 and found[0].startswith(reason), found


@pytest.mark.parametrize(("record", "reason"), [
    (7, 'expected a JSON object {"space": ..., "genome": ...}, got a number'),
    ([GOOD], "got a list"),
    (None, "got null"),
    ({"space": "checkerboard"}, "needs 'space' and 'genome' keys; missing 'genome'"),
    ({"genome": GOOD["genome"]}, "missing 'space'"),
    ({"space": "voronoi", "genome": {}}, "unknown design space 'voronoi'; known: checkerboard, hierarchical, spinodoid"),
    ({"space": ["checkerboard"], "genome": {}}, "unknown design space ['checkerboard']"),
    ({"space": "checkerboard", "genome": {"grid": [[0, 1], [1]]}}, "grid is ragged"),
    ({"space": "checkerboard", "genome": {"grid": [[0, 7], [1, 0]]}}, "unknown block type 7"),
    ({"space": "checkerboard", "genome": {"grid": [[0, 0.5], [1, 0]]}}, "block entries must be integer indices"),
    ({"space": "checkerboard", "genome": {"rows": 2}}, "checkerboard JSON must be an object with a 'grid' key"),
    ({"space": "hierarchical", "genome": {"grid": [[0, 5]]}}, "unknown building block 5"),
    ({"space": "spinodoid", "genome": {"rho": 1.5}}, "rho"),
])
def test_every_kind_of_bad_record_is_named_with_its_number(record: object, reason: str) -> None:
    """The bad record sits between good ones: it is reported as design 2, and no design is returned."""
    found = problems(json.dumps([GOOD, record, GOOD]))
    assert len(found) == 1 and found[0].startswith("design 2: ") and reason in found[0], found


def test_every_bad_record_is_reported_not_only_the_first() -> None:
    lines = [json.dumps(GOOD), "not json", "", json.dumps({"space": "voronoi", "genome": {}}), json.dumps(GOOD),
             json.dumps({"space": "checkerboard", "genome": {"grid": [[0, 1], [1]]}})]
    with pytest.raises(DesignFileError) as caught:
        parse_designs("\n".join(lines), "batch.jsonl")
    error = caught.value
    # records are counted without blank lines; JSON lines also name the line
    assert [(p.number, p.line) for p in error.problems] == [(2, 2), (3, 4), (5, 6)]
    assert error.records == 5
    assert str(error).startswith("batch.jsonl: 3 of 5 designs are invalid, so none was read: design 2 (line 2): "
                                 "is not JSON: Expecting value at column 1; design 3 (line 4): unknown design space")
    assert "design 5 (line 6): grid is ragged" in str(error)


def test_a_long_list_of_problems_is_kept_whole_and_the_message_stays_readable() -> None:
    bad = [{"space": "voronoi", "genome": {}}] * 30
    with pytest.raises(DesignFileError) as caught:
        parse_designs(json.dumps([GOOD, *bad]))
    assert [p.number for p in caught.value.problems] == list(range(2, 32))
    assert str(caught.value).endswith("; and 10 more") and "30 of 31 designs are invalid" in str(caught.value)


def test_the_size_limit_is_checked_before_anything_is_parsed() -> None:
    text = json.dumps([GOOD] * 100)
    size = len(text.encode())
    assert len(parse_designs(text, max_bytes=size)) == 100
    found = problems(text, max_bytes=size - 1)
    assert found == [f"is too large: {size:,} bytes, and at most {size - 1:,} bytes are accepted"]
    assert problems("ä" * 6, max_bytes=11)[0].startswith("is too large: 12 bytes")  # UTF-8 bytes, not characters


def test_bare_genomes_need_a_default_space() -> None:
    genome = Checkerboard.random(3, seed=4).to_json()
    assert parse_designs(genome, default_space="checkerboard") == [Checkerboard.random(3, seed=4)]
    assert "needs 'space' and 'genome' keys" in problems(genome)[0]


def test_the_file_reader_uses_the_same_parser(tmp_path: Path) -> None:
    file = tmp_path / "designs.json"
    file.write_text(json.dumps([GOOD, {"space": "voronoi", "genome": {}}, 3]))
    with pytest.raises(DesignFileError) as caught:
        read_designs(file)
    assert [p.number for p in caught.value.problems] == [2, 3]
    assert str(caught.value).startswith(f"{file}: 2 of 3 designs are invalid")
    with pytest.raises(ValueError, match="cannot read designs from"):
        read_designs(tmp_path / "missing.json")
