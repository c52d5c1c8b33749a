"""The in-line holographic microscope: wavelength, magnification, medium and polarisation.

Units: µm for lengths, pixels on the camera. The wavelength is the vacuum wavelength; the
wavenumber in the medium is ``k = 2π n_m / λ`` (rad/µm). The polarisation is the Jones vector
``(p_x, p_y)`` of the illumination along the image's x (columns) and y (rows) axes, normalised
on construction; HoloPy's and Lee et al.'s default is ``(1, 0)``.

**Plausible ranges.** Lorenz–Mie holographic microscopy is done with visible and near-infrared
lasers, microscope objectives and silicon (or InGaAs) cameras; values far outside these are
almost always a unit slip (447 nm given as 447 µm, 48 nm/px as 48 µm/px) and otherwise make the
fits run for minutes on a meaningless model. :class:`Instrument` therefore refuses

* ``wavelength`` outside :data:`WAVELENGTH_RANGE` = 0.2–2.0 µm: from the deep-UV edge of
  ordinary microscope glass (≈ 0.2 µm) through the visible and the Nd:YAG (1.064 µm) line to
  the cut-off of InGaAs cameras (≈ 1.7 µm), with margin;
* ``magnification`` outside :data:`MAGNIFICATION_RANGE` = 0.005–1.0 µm per pixel: typical
  holographic microscopes have 0.02–0.2 µm/px (100× oil objective and 3.45–6.5 µm camera pixels:
  0.035–0.065 µm/px; Lee et al. 2007 used 0.135 µm/px). 0.005 µm/px is a 1 µm camera pixel
  behind 200× total magnification; above 1 µm/px (a 10× objective with 10 µm pixels) the
  pixels cannot sample the interference fringes, spaced about λ/n_m ≈ 0.15–1.5 µm (Nyquist);
* ``n_m`` outside :data:`MEDIUM_INDEX_RANGE` = 1.0–2.0: from vacuum and air (1.000) through
  water (1.33), glycerol (1.47) and immersion oils (1.52) to the densest index-matching liquids
  (diiodomethane 1.74, high-index Cargille liquids up to ≈ 2.0); no transparent medium has a
  real index below 1 at optical frequencies.

These are the ranges of the app's microscope form, so the CLI, the Python API and the app
accept the same microscopes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Instrument", "MAGNIFICATION_RANGE", "MEDIUM_INDEX_RANGE", "WAVELENGTH_RANGE", "check_optics"]

#: Plausible vacuum wavelengths, µm (module docstring).
WAVELENGTH_RANGE = (0.2, 2.0)
#: Plausible sizes of a camera pixel in the focal plane, µm per pixel (module docstring).
MAGNIFICATION_RANGE = (0.005, 1.0)
#: Plausible real refractive indices of the medium (module docstring).
MEDIUM_INDEX_RANGE = (1.0, 2.0)


@dataclass(frozen=True)
class Instrument:
    """Settings of an in-line holographic microscope.

    Parameters
    ----------
    wavelength : float
        Vacuum wavelength of the illumination, µm (> 0; e.g. 0.447).
    magnification : float
        Size of one camera pixel in the focal plane, µm/px (> 0; e.g. 0.048).
    n_m : float
        Refractive index of the medium (real, > 0; water at 447 nm: 1.340).
    polarization : (complex, complex), default (1, 0)
        Jones vector of the illumination along image x (columns) and y (rows); stored normalised.

    Raises
    ------
    ValueError
        A value that is not finite, not positive, or outside its plausible range
        (:func:`check_optics`), or a zero polarisation vector.
    """

    wavelength: float
    magnification: float
    n_m: float
    polarization: tuple[complex, complex] = (1.0, 0.0)

    def __post_init__(self) -> None:
        check_optics(self.wavelength, self.magnification, self.n_m)
        for name in ("wavelength", "magnification", "n_m"):
            object.__setattr__(self, name, float(getattr(self, name)))
        try:
            px, py = (complex(p) for p in self.polarization)
        except (TypeError, ValueError):
            raise ValueError(f"polarization must be a Jones vector (p_x, p_y) of two numbers; "
                             f"got {self.polarization!r}") from None
        norm = math.hypot(abs(px), abs(py))
        if not math.isfinite(norm) or norm == 0:
            raise ValueError(f"polarization must be a finite, nonzero Jones vector (p_x, p_y); "
                             f"got {self.polarization!r}")
        object.__setattr__(self, "polarization", (px / norm, py / norm))

    @property
    def wavenumber(self) -> float:
        """Wavenumber in the medium, ``k = 2π n_m / λ``, rad/µm."""
        return 2.0 * math.pi * self.n_m / self.wavelength


def check_optics(wavelength: float, magnification: float, n_m: float) -> None:
    """Refuse optics that no holographic microscope has (module docstring: the ranges and why).

    Parameters
    ----------
    wavelength : float
        Vacuum wavelength, µm; :data:`WAVELENGTH_RANGE`.
    magnification : float
        Camera pixel in the focal plane, µm per pixel; :data:`MAGNIFICATION_RANGE`.
    n_m : float
        Real refractive index of the medium; :data:`MEDIUM_INDEX_RANGE`.

    Raises
    ------
    ValueError
        The first value that is not a positive finite real number (``"<name> must be a positive
        finite number …"``) or lies outside its range (``"<name> … is outside the plausible range
        …"``, with a hint at the likely unit slip). The message starts with the parameter name
        (``wavelength``, ``magnification`` or ``n_m``) so that callers can name their own option.
    """
    for name, unit in (("wavelength", "µm (vacuum wavelength)"), ("magnification", "µm per pixel"),
                       ("n_m", "(medium refractive index, real)")):
        value = {"wavelength": wavelength, "magnification": magnification, "n_m": n_m}[name]
        if isinstance(value, complex) or not _is_real_number(value) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive finite number {unit}; got {value!r}")
    wavelength, magnification, n_m = float(wavelength), float(magnification), float(n_m)
    low, high = WAVELENGTH_RANGE
    if not low <= wavelength <= high:
        hint = ""
        if 100 <= wavelength <= 5000:
            hint = f": did you give nm? ({wavelength:g} nm = {wavelength / 1000:g} µm)"
        elif 1e-7 <= wavelength <= 5e-6:
            hint = f": did you give metres? ({wavelength:g} m = {wavelength * 1e6:g} µm)"
        raise ValueError(f"wavelength {wavelength:g} µm is outside the plausible range {low:g} to {high:g} µm "
                         f"(vacuum wavelength of a visible or near-infrared laser){hint}")
    low, high = MAGNIFICATION_RANGE
    if not low <= magnification <= high:
        hint = ""
        if 1 < magnification <= 1000:
            hint = (f": did you give nm per pixel ({magnification:g} nm/px = {magnification / 1000:g} µm/px), or the "
                    "objective's magnification or the camera's pixel pitch? Give the camera pixel's size in the focal "
                    "plane (pixel pitch / total magnification)")
        elif 1e-9 <= magnification < 1e-5:
            hint = f": did you give metres per pixel? ({magnification:g} m/px = {magnification * 1e6:g} µm/px)"
        raise ValueError(f"magnification {magnification:g} µm/px is outside the plausible range {low:g} to {high:g} "
                         f"µm per pixel (size of a camera pixel in the focal plane; typically 0.02 to 0.2){hint}")
    low, high = MEDIUM_INDEX_RANGE
    if not low <= n_m <= high:
        hint = ("; no transparent medium has a refractive index below 1 (vacuum)" if n_m < low else
                ": did you give it scaled? (water is 1.33)" if n_m > 10 else "")
        raise ValueError(f"n_m {n_m:g} is outside the plausible range {low:g} to {high:g} for the refractive index of "
                         f"the medium (air 1.00, water 1.33, immersion oil 1.52){hint}")


def _is_real_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (bool, str))
