"""How a plate is meshed: a crack the mesh cannot hold is refused, saying which setting makes room."""

from __future__ import annotations

import pytest

from designs.checkerboard import Checkerboard
from fem.fracture import PlateSetup, check_design


def test_a_large_ell_names_the_element_width_it_gives_and_what_makes_room() -> None:
    """ℓ = 0.9 mm gives elements of ℓ/2 = 0.45 mm; the 0.2 mm crack then sits within half an element
    (0.225 mm) of the edge. The message named only the crack length, which the page does not let one set."""
    plate = Checkerboard.random(4, seed=0)
    with pytest.raises(ValueError) as refused:
        check_design(plate, PlateSetup(ell=0.9))
    assert str(refused.value) == ("crack_length 0.2 mm leaves less than half an element (0.225 mm) to a plate edge; "
                                  "allowed 0.225 to 0.775 mm on this mesh, whose elements are 0.45 mm wide (ell = 0.9 "
                                  "mm allows up to ell/2): a smaller ell or element size makes room for the crack")
    check_design(plate, PlateSetup(ell=0.4))  # elements of 0.2 mm: the crack tip is half an element from the edge
