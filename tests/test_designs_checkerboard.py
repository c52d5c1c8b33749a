"""Checkerboard design space: validation, identity, sampling, symmetry."""

import json

import numpy as np
import pytest

from designs.base import Design, content_hash
from designs.checkerboard import Checkerboard


def test_protocol_and_hash_match_base():
    c = Checkerboard(((0, 1), (1, 0)))
    assert isinstance(c, Design)
    assert c.content_hash() == content_hash("checkerboard", {"grid": [[0, 1], [1, 0]], "palette": ["soft", "stiff"]})
    assert len(c.content_hash()) == 64


def test_json_round_trip_and_canonical_equality():
    c = Checkerboard.random(8, soft_fraction=0.3, seed=5)
    back = Checkerboard.from_json(c.to_json())
    assert back == c and back.content_hash() == c.content_hash()
    # lists, tuples and numpy arrays give the same design and hash
    arr = c.as_array()
    assert Checkerboard.from_array(arr).content_hash() == c.content_hash()
    assert Checkerboard([list(r) for r in c.grid]).content_hash() == c.content_hash()
    json.dumps(c.genome())


def test_different_designs_different_hashes():
    a = Checkerboard(((0, 1), (1, 0)))
    b = Checkerboard(((1, 0), (0, 1)))
    assert a.content_hash() != b.content_hash()


@pytest.mark.parametrize("n,m,f", [(8, 8, 0.3), (16, 16, 0.5), (5, 7, 0.2), (2, 2, 1.0)])
def test_random_exact_soft_fraction(n, m, f):
    c = Checkerboard.random(n, m, soft_fraction=f, seed=1)
    assert c.shape == (n, m)
    assert abs(c.fraction("soft") * n * m - round(f * n * m)) <= 0
    # same seed, same design; generator accepted
    assert Checkerboard.random(n, m, soft_fraction=f, seed=1) == c
    Checkerboard.random(n, m, soft_fraction=f, seed=np.random.default_rng(2))


@pytest.mark.parametrize("n", [8, 7])
def test_symmetric_sampling_and_mirror(n):
    c = Checkerboard.random(n, 8, soft_fraction=0.4, seed=3, symmetric=True)
    assert c.is_mirror_symmetric()
    assert c.mirrored() == c
    assert abs(c.fraction() - 0.4) <= 2 / (n * 8)
    r = Checkerboard.random(8, soft_fraction=0.4, seed=4)
    assert np.array_equal(r.mirrored().as_array(), r.as_array()[::-1])
    assert r.mirrored().mirrored() == r
    assert r.symmetrized().is_mirror_symmetric()


@pytest.mark.parametrize(
    "grid,match",
    [
        ([], "non-empty"),
        ([[0, 1], [1]], "ragged"),
        ([[0, 1]], "2x2"),
        ([[0, 2], [1, 0]], "unknown block type"),
        ([[0, 1.5], [1, 0]], "integer"),
        ([[0, "soft"], [1, 0]], "integer"),
        ([[]], "non-empty"),
    ],
)
def test_bad_grids_raise(grid, match):
    with pytest.raises(ValueError, match=match):
        Checkerboard(grid)


def test_bad_palette_and_sampling():
    with pytest.raises(ValueError, match="palette"):
        Checkerboard(((0, 1), (1, 0)), ("soft", "soft"))
    with pytest.raises(ValueError, match="palette must be a non-empty sequence"):  # not ('s', 'o', 'f', 't')
        Checkerboard.from_json({"grid": [[0, 1], [1, 0]], "palette": "soft"})
    with pytest.raises(ValueError, match="soft_fraction"):
        Checkerboard.random(8, soft_fraction=1.5)
    with pytest.raises(ValueError, match="soft_fraction"):
        Checkerboard.random(8, soft_fraction=float("nan"))
    with pytest.raises(ValueError, match=">= 2"):
        Checkerboard.random(1)
    with pytest.raises(ValueError, match="unknown block type"):
        Checkerboard(((0, 1), (1, 0))).fraction("glass")
