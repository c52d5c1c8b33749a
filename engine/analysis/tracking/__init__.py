"""Holographic particle tracking: the Lorenz–Mie forward model and track analysis.

Modules, one job each:

* :mod:`.mie_coefficients` — Mie coefficients ``a_n, b_n`` of a homogeneous sphere (Bohren &
  Huffman ch. 4, Wiscombe 1980 series length and recurrences) and efficiencies;
* :mod:`.scattered_field` — the sphere's scattered field at many points (near field included);
* :mod:`.instrument` — :class:`Instrument` (wavelength µm, magnification µm/px, medium index,
  polarisation);
* :mod:`.sphere` — :class:`Sphere` (x, y px; z, a_p µm; n_p) and particle tables;
* :mod:`.hologram` — the normalised in-line hologram of several spheres (Lee et al. 2007, in
  HoloPy's conventions);
* :mod:`.synthetic` — seeded synthetic frames with their truth tables (like trackpy's
  ``artificial``);
* :mod:`.tracks` — tracks from CSV or linked detections (trackpy), MSD, diffusion coefficients
  (Michalet 2010), per-track features and Ward clustering into populations, a seeded simulator
  of free and trapped particles.

Nothing here imports :mod:`designs` or :mod:`fem`.
"""

from .hologram import hologram, hologram_at
from .instrument import Instrument
from .mie_coefficients import Efficiencies, efficiencies, mie_coefficients, series_length
from .scattered_field import scattered_field
from .sphere import COLUMNS, Sphere, spheres_from_table, spheres_to_table
from .synthetic import random_spheres, synthetic_frame, synthetic_frames

__all__ = [
    "COLUMNS",
    "Efficiencies",
    "Instrument",
    "Sphere",
    "efficiencies",
    "hologram",
    "hologram_at",
    "mie_coefficients",
    "random_spheres",
    "scattered_field",
    "series_length",
    "spheres_from_table",
    "spheres_to_table",
    "synthetic_frame",
    "synthetic_frames",
]
