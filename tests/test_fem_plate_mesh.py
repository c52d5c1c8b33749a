"""How a plate is meshed: a length scale the plate cannot hold, or a crack the mesh cannot hold, is
refused, saying what is allowed and which setting makes room."""

from __future__ import annotations

import pytest

from designs.checkerboard import Checkerboard
from fem.fracture import PlateSetup, check_design, label


def test_an_ell_too_long_for_the_plate_is_refused() -> None:
    """ℓ = 0.9 mm was taken (the page offered up to 1 mm); at ℓ = 1/4 the all-stiff plate came out at
    42.5 MPa, stronger than its 40 MPa phase, with a band over the whole grip called "not along a grip"."""
    for ell in (0.9, 0.25, 0.07):
        with pytest.raises(ValueError) as refused:
            PlateSetup(ell=ell)
        assert str(refused.value).startswith(f"ell {ell:g} mm is too long for the 1 mm plate: at most 0.0625 mm (1/16) "
                                             "is allowed")
    PlateSetup(ell=1 / 16)
    # at the longest ℓ a notched plate is still weaker than its phase (40 MPa) minus the crack's share
    # of the section (a net-section stress of 40 MPa over 0.8 of the width: 32 MPa) to within 5 %
    assert label(Checkerboard.random(8, soft_fraction=0.0, seed=0), "strength", ell=1 / 16)["strength"] < 32 * 1.05


def test_a_crack_too_near_an_edge_names_the_element_width_and_what_makes_room() -> None:
    """The message named only the crack length before."""
    plate = Checkerboard.random(4, seed=0)
    with pytest.raises(ValueError) as refused:
        check_design(plate, PlateSetup(ell=1 / 16, crack_length=0.01))
    assert str(refused.value) == ("crack_length 0.01 mm leaves less than half an element (0.015625 mm) to a plate edge; "
                                  "allowed 0.015625 to 0.984375 mm on this mesh, whose elements are 0.03125 mm wide (ell "
                                  "= 0.0625 mm allows up to ell/2): a smaller ell or element size makes room for the "
                                  "crack")
    check_design(plate, PlateSetup(ell=1 / 16, crack_length=1 / 64))  # half an element from the edge
