"""The SVR estimator that ships with matloop, and estimators for other microscopes.

:data:`SHIPPED_SVR` (``models/svr_estimator.json``, plain JSON read by
:func:`.svr_estimator.load_estimator`; never pickled) is an :class:`.svr_estimator.SVREstimator`
(Yevick, Hannel & Grier 2014) for the microscope and particles of issue 13: λ = 0.447 µm,
0.048 µm/px, n_m = 1.34 (water), a_p 0.4–2 µm, n_p 1.38–1.8, z_p 10–40 µm, 5 % pixel noise.
It is trained by :func:`train_shipped_svr` on :func:`.svr_estimator.training_set` with the
settings of :data:`RECIPE` (seed 0); regenerate the file with::

    python -m engine.analysis.tracking.svr_shipped

The file also stores the recipe, the library versions and the training time (provenance).

Size and precision, measured (3000 training profiles, C = 100, ε = 0.01; 2239–2778 support
vectors per parameter, 2972 distinct; held-out RMSE of 100 noisy 301×301 holograms, seed 1:
a_p 0.025 µm, n_p 0.029, z_p 0.77 µm = 16 px; the CATCH bar is 0.23 µm, 0.13, 47 px):

============================  =========  ============================================
layout                        size       largest change of a held-out estimate
============================  =========  ============================================
one vector list per target    15.6 MB    —
shared vectors, exact         6.0 MB     0
shared, 5 decimals (shipped)  2.65 MB    a_p 0.0007 µm, n_p 0.0002, z_p 0.008 µm
shared, 4 decimals            2.36 MB    a_p 0.003 µm, n_p 0.0014, z_p 0.08 µm
shared, 3 decimals            2.06 MB    a_p 0.04 µm, n_p 0.016, z_p 1.6 µm (RMSE +40 %)
============================  =========  ============================================

(vectors are standardised profiles, values of order 1; the large dual coefficients at C = 100
amplify rounding, hence 5 decimals). Fewer profiles (1500, C = 10) gave RMSE 0.042 µm, 0.041,
1.0 µm; 6000 profiles 0.025 µm, 0.032, 0.69 µm at twice the size.

An estimator belongs to its microscope (the profile's rings are pixels; the fringes scale with
the wavelength in the medium). :func:`estimator_for` returns the shipped one for the issue's
microscope and, for any other, trains one with :data:`QUICK_RECIPE` (1500 profiles, C = 10:
~5–10 s on one core, accuracy as above, still inside the CATCH bar; the refinement restores full
precision) and keeps it as JSON in a cache folder, named by a hash of the microscope and recipe.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .instrument import Instrument
from .svr_estimator import SVREstimator, load_estimator, same_instrument, training_set

__all__ = ["QUICK_RECIPE", "RECIPE", "SHIPPED_SVR", "estimator_for", "shipped_estimator", "train_shipped_svr",
           "train_svr"]

#: The shipped file.
SHIPPED_SVR = Path(__file__).parent / "models" / "svr_estimator.json"

#: How the shipped estimator was trained (arguments of training_set and SVREstimator, seed, rounding).
RECIPE: dict[str, Any] = {
    "instrument": {"wavelength": 0.447, "magnification": 0.048, "n_m": 1.34},
    "training_set": {"count": 3000, "radius": 100, "noise": 0.05, "a_range": [0.4, 2.0], "n_range": [1.38, 1.8],
                     "z_range": [10.0, 40.0], "seed": 0},
    "SVREstimator": {"C": 100.0, "epsilon": 0.01},
    "decimals": 5,
}

#: Estimators trained on the fly for other microscopes: the same ranges, fewer profiles, C = 10.
QUICK_RECIPE: dict[str, Any] = {
    "training_set": {**RECIPE["training_set"], "count": 1500},
    "SVREstimator": {"C": 10.0, "epsilon": 0.01},
    "decimals": 5,
}


def train_svr(instrument: Instrument, recipe: dict[str, Any] = QUICK_RECIPE) -> tuple[SVREstimator, float]:
    """Train an estimator for ``instrument`` by ``recipe`` (keys as :data:`QUICK_RECIPE`).

    Returns
    -------
    estimator : SVREstimator
    seconds : float
        Wall time of the profiles and the fit.
    """
    data = dict(recipe["training_set"])
    count = int(data.pop("count"))
    ranges = {k: tuple(v) for k, v in data.items() if k.endswith("_range")}
    start = time.perf_counter()
    profiles, table = training_set(count, instrument, data["radius"], noise=data["noise"], seed=data["seed"],
                                   **ranges)
    estimator = SVREstimator(**recipe["SVREstimator"], radius=data["radius"], instrument=instrument)
    estimator.fit(profiles, table)
    return estimator, time.perf_counter() - start


def train_shipped_svr(path: str | Path = SHIPPED_SVR, recipe: dict[str, Any] | None = None,
                      verbose: bool = True) -> SVREstimator:
    """Regenerate the shipped estimator by :data:`RECIPE` (seeded) and write it with its provenance."""
    recipe = json.loads(json.dumps(recipe or RECIPE))
    instrument = Instrument(**recipe["instrument"])
    estimator, seconds = train_svr(instrument, recipe)
    provenance = {
        "recipe": recipe, "regenerate": "python -m engine.analysis.tracking.svr_shipped",
        "method": "Yevick, Hannel & Grier, Opt. Express 22, 26884 (2014): RBF support vector regression of "
                  "a_p (um), n_p, z_p (um) on the radial profile (100 rings of 1 px) of the normalised hologram",
        "training_seconds": round(seconds, 1),
        "versions": {name: version(name) for name in ("numpy", "scikit-learn", "scipy")},
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    estimator.save(path, decimals=recipe["decimals"], provenance=provenance)
    if verbose:
        print(f"wrote {path} ({Path(path).stat().st_size / 1e6:.2f} MB) in {seconds:.0f} s; support vectors per "
              f"parameter: {', '.join(str(len(v)) for v in estimator.support_vectors_)}")
    return estimator


def shipped_estimator() -> SVREstimator:
    """The shipped estimator (:data:`SHIPPED_SVR`, module notes)."""
    return load_estimator(SHIPPED_SVR)


def estimator_for(instrument: Instrument, cache: str | Path | None = None,
                  progress: Callable[[str], None] | None = None) -> SVREstimator:
    """An SVR estimator for ``instrument``: the shipped one, a cached one, or a new one.

    Parameters
    ----------
    instrument : Instrument
    cache : path, optional
        Folder for estimators trained here (``svr-<hash>.json``; created if missing); None
        trains without keeping the result.
    progress : callable, optional
        Called with a message before training (which takes seconds).

    Returns
    -------
    SVREstimator
    """
    if not isinstance(instrument, Instrument):
        raise ValueError(f"instrument must be an Instrument; got {type(instrument).__name__}")
    shipped = RECIPE["instrument"]
    if same_instrument(instrument, Instrument(**shipped)):
        return shipped_estimator()
    key = json.dumps([instrument.wavelength, instrument.magnification, instrument.n_m,
                      [[complex(p).real, complex(p).imag] for p in instrument.polarization], QUICK_RECIPE])
    path = None if cache is None else Path(cache) / f"svr-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if path is not None and path.is_file():
        try:
            return load_estimator(path)
        except ValueError:
            pass                                   # a damaged cache file is replaced below
    if progress is not None:
        progress(f"training an SVR estimator for λ = {instrument.wavelength:g} µm, {instrument.magnification:g} "
                 f"µm/px, n_m = {instrument.n_m:g} (once per microscope)")
    estimator, seconds = train_svr(instrument)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        estimator.save(path, decimals=QUICK_RECIPE["decimals"],
                       provenance={"recipe": QUICK_RECIPE, "training_seconds": round(seconds, 1)})
    return estimator


if __name__ == "__main__":
    train_shipped_svr(sys.argv[1] if len(sys.argv) > 1 else SHIPPED_SVR)
