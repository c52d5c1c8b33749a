"""Hierarchical design space: documented sub-patterns and expansion."""

import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical, sub_pattern


def test_sub_patterns_are_the_documented_ones():
    assert np.array_equal(sub_pattern("iso"), [[1, 0], [0, 1]])
    assert np.array_equal(sub_pattern("x"), [[1, 1], [0, 0]])  # stiff row continuous along x
    assert np.array_equal(sub_pattern("y"), [[1, 0], [1, 0]])  # stiff column continuous along y
    for b in range(3):
        for s in (2, 4):
            assert sub_pattern(b, s).mean() == 0.5
    # x and y blocks are transposes of each other
    assert np.array_equal(sub_pattern("x", 4), sub_pattern("y", 4).T)


def test_expand_size_and_composition():
    h = Hierarchical.random(4, seed=0)
    c = h.expand()
    assert isinstance(c, Checkerboard) and c.shape == (8, 8)
    assert c.fraction("soft") == 0.5
    all_x = Hierarchical(((1, 1), (1, 1)), sub=2).expand().as_array()
    assert np.all(all_x[0] == 1) and np.all(all_x[1] == 0)  # continuous bands along x


def test_identity_round_trip():
    h = Hierarchical.random(4, seed=1)
    assert Hierarchical.from_json(h.to_json()) == h
    assert h.content_hash() != h.expand().content_hash()
    assert Hierarchical((("iso", "x"), ("y", "iso"))) == Hierarchical(((0, 1), (2, 0)))


@pytest.mark.parametrize("grid,match", [([], "non-empty"), ([[0, 1], [2]], "ragged"), ([[0, 3]], "unknown building block")])
def test_bad_input(grid, match):
    with pytest.raises(ValueError, match=match):
        Hierarchical(grid)
    with pytest.raises(ValueError, match="sub"):
        Hierarchical(((0,),), sub=1)
