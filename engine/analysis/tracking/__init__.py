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
* :mod:`.noise` — pixel noise of an image, model-free (Immerkær 1996);
* :mod:`.detection` — classical centre finder: orientation alignment transform (Krishnatreya &
  Grier 2014), radial symmetry centres, crop sizes; ``trackpy.locate`` as a baseline;
* :mod:`.cnn_detector` — a trained heatmap CNN (CenterNet-style, on 8×8 block means) whose
  candidates :mod:`.ring_centre` moves to the centre of ring coherence at full resolution; the
  shipped weights in ``models/cnn_detector.pt``; trained on frames from :mod:`.binned_hologram`
  (block means of multi-sphere holograms, fast); import it from its module (it loads torch);
* :mod:`.matching` — detections scored against known particles (misses, false alarms, error);
* :mod:`.crop_model` — the single-sphere hologram at chosen pixels with its analytic Jacobian
  (two real radial profiles; what refinement fits);
* :mod:`.svr_estimator` — fast estimates of a_p, n_p, z_p: radial profiles of the hologram about
  each centre and support vector regression (Yevick, Hannel & Grier 2014), trained on seeded
  model profiles, saved as plain JSON;
* :mod:`.cnn_estimator` — fast estimates of a_p, n_p, z_p by a convolutional network on a fixed
  201-px window about each centre (after CATCH, Altman & Grier 2020), trained on seeded model
  windows; the shipped model in ``models/cnn_estimator.pt`` (torch state dict, weights only);
  import it from its module (it loads torch);
* :mod:`.svr_shipped` — the SVR estimator that ships in ``models/svr_estimator.json`` (plain JSON,
  its recipe and provenance inside), and estimators trained once for other microscopes;
* :mod:`.images` — hologram frames from PNG, TIFF and ``.npy`` files (checked, never unpickled)
  and their normalisation by a background image or the frame's median;
* :mod:`.windows` — estimation windows completed beyond the frame's edge by the hologram's
  symmetry under a rotation by 180°;
* :mod:`.pipeline` — one frame in, a particle table out: detection → estimation → refinement,
  neighbours' fringes subtracted and hidden particles found in the residual; scores against a
  known truth;
* :mod:`.hologram_job` — the pipeline as a background job of the app (uploads, results beside the
  store);
* :mod:`.refine` — nonlinear least-squares refinement of x, y, z, a_p, n_p (, α) with
  uncertainties, a search along the radius–index valley, batches on thread or process pools;
* :mod:`.tracks` — tracks from CSV or linked detections (trackpy), MSD, diffusion coefficients
  (Michalet 2010), per-track features and Ward clustering into populations, a seeded simulator
  of free and trapped particles.

Nothing here imports :mod:`designs` or :mod:`fem`.
"""

from .detection import locate_rings, locate_trackpy
from .hologram import hologram, hologram_at
from .instrument import Instrument
from .matching import score_detections
from .mie_coefficients import Efficiencies, efficiencies, mie_coefficients, series_length
from .refine import FitResult, refine, refine_frame, refine_many
from .scattered_field import scattered_field
from .sphere import COLUMNS, Sphere, spheres_from_table, spheres_to_table
from .svr_estimator import SVREstimator, load_estimator, radial_profile
from .synthetic import random_spheres, synthetic_frame, synthetic_frames

__all__ = [
    "COLUMNS",
    "Efficiencies",
    "FitResult",
    "Instrument",
    "SVREstimator",
    "Sphere",
    "efficiencies",
    "hologram",
    "hologram_at",
    "load_estimator",
    "locate_rings",
    "locate_trackpy",
    "mie_coefficients",
    "radial_profile",
    "random_spheres",
    "refine",
    "refine_frame",
    "refine_many",
    "scattered_field",
    "score_detections",
    "series_length",
    "spheres_from_table",
    "spheres_to_table",
    "synthetic_frame",
    "synthetic_frames",
]
