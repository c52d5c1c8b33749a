"""The fracture solver's set-up as inputs, the same on every page that labels plates.

Label design, Label batch, Train and Campaigns ask for the phase-field length ℓ, the mesh, the
energy split, the grips and their damage-free strips, and the two phases with the same inputs, so that a set-up tried on one
design can be used for a batch, a surrogate and a campaign (the ``matloop`` flags of
:func:`engine.cli.label.add_setup_arguments` give the same set-up on the command line).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from fem.fracture import DEFAULT_ELL
from fem.materials import DEFAULT_PHASE_SETTINGS, PHASE_SETTINGS
from fem.phasefield_split import SPLITS
from fem.plate_setup import GRIPS, MAX_ELL, MAX_GRIP_STRIP, PlateSetup
from ui.common import CheckedNumbers

__all__ = ["describe_setup", "setup_inputs"]


def _phase_inputs(numbers: CheckedNumbers, key: str = "") -> dict[str, dict[str, float | None]]:
    """The settings of the soft and stiff phases (:func:`fem.materials.material_from_settings`), from
    inputs preset to the defaults, in an expander *Phases*; a crushing strength of 0 means a phase that
    never crushes. ``key`` prefixes the widget keys (pages with several forms)."""
    phases = {}
    with st.expander("Phases"):
        st.caption("The failure strain ε_f sets a phase's tensile strength E·ε_f (an AT2 bar at ℓ, so its "
                   "toughness G_c follows ℓ); crushing is the uniaxial compressive strength, at which a phase "
                   "fails under a split (0: never).")
        for column, (name, default) in zip(st.columns(len(DEFAULT_PHASE_SETTINGS)), DEFAULT_PHASE_SETTINGS.items()):
            given = {
                "E": numbers.number(f"{name}: E (MPa)", default["E"], 0.0, 1e7, "MPa", where=column, open_low=True,
                                    step=10.0, format="%g", key=f"{key}{name}-E"),
                "nu": numbers.number(f"{name}: ν", default["nu"], -1.0, 0.5, where=column, open_low=True,
                                     open_high=True, step=0.01, format="%g", key=f"{key}{name}-nu"),
                "failure_strain": numbers.number(f"{name}: failure strain ε_f", default["failure_strain"], 0.0, 10.0,
                                                 where=column, open_low=True, step=0.01, format="%g",
                                                 key=f"{key}{name}-failure-strain"),
            }
            phases[name] = {k: default[k] if value is None else float(value) for k, value in given.items()}
            crushing = numbers.number(f"{name}: crushing (MPa)", default["compressive_strength"], 0.0, 1e7, "MPa",
                                      where=column, step=10.0, format="%g", help="0: the phase never crushes",
                                      key=f"{key}{name}-crushing")
            phases[name]["compressive_strength"] = float(crushing) if crushing else None
    return phases


def setup_inputs(numbers: CheckedNumbers, *, in_form: bool = False, wide: bool = False, key: str = "") -> dict[str, Any]:
    """Inputs of ℓ, the mesh, the energy split, the grips and their strips, and the phases.

    Parameters
    ----------
    numbers : CheckedNumbers
        Collects the inputs out of range (the caller disables its action while any is).
    in_form : bool
        Inside an ``st.form`` a choice does not rerun the page, so the mesh is asked as an element
        size or a count per block side, both shown (giving both is refused by ``PlateSetup``);
        outside one a radio chooses which is shown.
    wide : bool
        Lay the inputs out in rows of three (a page-wide section) rather than one below the other
        (a column or the sidebar).
    key : str
        Prefix of the widget keys.

    Returns
    -------
    dict
        The ``PlateSetup`` options they give: ``ell`` (mm; None when out of range), and where given ``element_size`` (mm) or
        ``elements_per_block``, ``split`` (not the mode's default), ``grips`` (not the default
        bonded grips), ``grip_strip`` (in units of ℓ) and ``materials`` (phases other than the
        defaults). Mode and plane are the page's own inputs.
    """
    first, second, third = st.columns(3) if wide else (st, st, st)
    ell = numbers.number("Phase-field length ℓ (mm)", DEFAULT_ELL, 0.0, MAX_ELL, "mm", open_low=True,
                         step=1 / 256, format="%.5f", key=f"{key}ell", where=first,
                         help="a physical length: the same on every grid drawn on the 1 mm plate")
    size = per_block = None
    if in_form:
        size = numbers.number("Element size (mm)", None, 0.0, 0.5, "mm", open_low=True, step=1 / 512, format="%.5f",
                              placeholder="ℓ/2", key=f"{key}element-size", where=second,
                              help="largest element edge, at most ℓ/2; empty (and no count per block): ℓ/2")
        per_block = numbers.number("or elements per block side", None, 1, 256, placeholder="–", where=third,
                                   key=f"{key}per-block", help="instead of an element size, at most ℓ/2 per element")
    elif second.radio("Mesh", ["element size", "elements per block"], horizontal=True, key=f"{key}mesh",
                      help="elements may be at most ℓ/2 in either direction") == "element size":
        size = numbers.number("Element size (mm)", None, 0.0, 0.5, "mm", open_low=True, step=1 / 512, format="%.5f",
                              placeholder="ℓ/2", key=f"{key}element-size", where=third,
                              help="largest element edge, at most ℓ/2; empty: ℓ/2")
    else:
        per_block = numbers.number("Elements per block side", 8, 1, 256, key=f"{key}per-block", where=third,
                                   help="the grid's blocks times this, at most ℓ/2 per element")
    first, second, third = st.columns(3) if wide else (st, st, st)
    split = first.selectbox("Energy split", ["default", *SPLITS], key=f"{key}split",
                            help="what drives the damage; default: none in mode I, spectral in mode II")
    grips = second.radio("Grips", GRIPS, horizontal=True, key=f"{key}grips",
                         help="bonded: the edges held through a thin elastic layer (the default); clamped: their "
                         "displacements prescribed, with damage-free strips 2ℓ wide along the grips in mode I")
    strip = numbers.number("Grip strips (ℓ)", None, 0.0, 100.0, "ℓ", where=third, step=0.5, format="%g",
                           placeholder="default", key=f"{key}grip-strip",
                           help=f"width of the damage-free strip along each grip, in units of ℓ (at most {MAX_GRIP_STRIP:g} mm); "
                           "empty: none, or 2 in mode I with clamped grips")
    phases = _phase_inputs(numbers, key)
    options: dict[str, Any] = {"ell": None if ell is None else float(ell)}
    if size is not None:
        options["element_size"] = float(size)
    if per_block is not None:
        options["elements_per_block"] = int(per_block)
    if split != "default":
        options["split"] = split
    if grips != PlateSetup().grips:
        options["grips"] = grips
    if strip is not None:
        options["grip_strip"] = float(strip)
    if phases != DEFAULT_PHASE_SETTINGS:
        options["materials"] = phases
    return options


def describe_setup(options: dict[str, Any]) -> str:
    """What a set-up of :func:`setup_inputs` changes from the defaults, in words (e.g. "ℓ = 0.0156 mm,
    clamped grips, soft E = 50 MPa"); "default set-up" where it changes nothing."""
    said = []
    if options.get("ell") not in (None, DEFAULT_ELL):
        said.append(f"ℓ = {options['ell']:g} mm")
    if options.get("element_size") is not None:
        said.append(f"elements of {options['element_size']:g} mm")
    if options.get("elements_per_block") is not None:
        said.append(f"{options['elements_per_block']} elements per block side")
    if options.get("split"):
        said.append(f"{options['split']} split")
    if options.get("grips"):
        said.append(f"{options['grips']} grips")
    if options.get("grip_strip") is not None:
        said.append(f"grip strips of {options['grip_strip']:g}ℓ")
    for name, phase in (options.get("materials") or {}).items():
        default = DEFAULT_PHASE_SETTINGS.get(name, {})
        for key, value in phase.items():
            if default.get(key) == value:
                continue
            if value is None or value == "none":
                said.append(f"{name} never crushes")
            else:
                unit = "" if PHASE_SETTINGS.get(key, "1") == "1" else f" {PHASE_SETTINGS[key]}"
                said.append(f"{name} {key} = {value:g}{unit}" if isinstance(value, (int, float)) else f"{name} {key} = {value}")
    return ", ".join(said) or "default set-up"
