"""The in-line holographic microscope: wavelength, magnification, medium and polarisation.

Units: µm for lengths, pixels on the camera. The wavelength is the vacuum wavelength; the
wavenumber in the medium is ``k = 2π n_m / λ`` (rad/µm). The polarisation is the Jones vector
``(p_x, p_y)`` of the illumination along the image's x (columns) and y (rows) axes, normalised
on construction; HoloPy's and Lee et al.'s default is ``(1, 0)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Instrument"]


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
        A value that is not finite, not positive, or a zero polarisation vector.
    """

    wavelength: float
    magnification: float
    n_m: float
    polarization: tuple[complex, complex] = (1.0, 0.0)

    def __post_init__(self) -> None:
        for name, unit in (("wavelength", "µm (vacuum wavelength)"), ("magnification", "µm per pixel"),
                           ("n_m", "(medium refractive index, real)")):
            value = getattr(self, name)
            if isinstance(value, complex) or not _is_real_number(value) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number {unit}; got {value!r}")
            object.__setattr__(self, name, float(value))
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


def _is_real_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return not isinstance(value, (bool, str))
