"""The softness and propensity models that ship with matloop, trained on the Kob–Andersen data.

:data:`SHIPPED_SOFTNESS` and :data:`SHIPPED_PROPENSITY` (``models/*.json``, JSON written by
:meth:`.models.LinearGlassModel.save`; never pickled) are the SVM softness and the ridge
regression of propensity for A particles of the 3D Kob–Andersen 80:20 glass at T = 0.44 and
t ≈ τα, trained by :func:`train_shipped` with the default descriptors on the ten training
configurations of ``tests/data/glass`` (BOTAN release, Apache-2.0; see its PROVENANCE.md).
Lengths are in σ_AA; use them on configurations of that model (species A and B, density 1.2).
Regenerate with::

    python -m engine.analysis.softness.shipped
"""

from __future__ import annotations

import hashlib
import sys
from importlib.metadata import version
from pathlib import Path

from .isoconfig import read_isoconfigurational
from .models import LinearGlassModel, describe_samples, load_model, train_propensity_ridge, train_softness
from .descriptors import SoftnessDescriptors

__all__ = ["SHIPPED_SOFTNESS", "SHIPPED_PROPENSITY", "KA_BOX", "EXAMPLES", "TRAINING", "load_shipped", "train_shipped"]

_MODELS = Path(__file__).with_name("models")
SHIPPED_SOFTNESS = _MODELS / "ka3d_T0.44_softness.json"
SHIPPED_PROPENSITY = _MODELS / "ka3d_T0.44_propensity.json"
#: Box length of the Kob–Andersen data, (4096 / 1.2)^(1/3) σ_AA.
KA_BOX = 15.05658
_DATA = Path(__file__).resolve().parents[3] / "tests" / "data" / "glass"
#: Example configurations for the app: the three test configurations (not trained on), by number.
EXAMPLES = {k: _DATA / f"ka3d_T0.44_config{k}.npz" for k in (401, 402, 403)}
#: The ten training configurations of the shipped models, by number.
TRAINING = {k: _DATA / f"ka3d_T0.44_config{k}.npz" for k in range(1, 11)}


def train_shipped(data: Path = _DATA) -> tuple[LinearGlassModel, LinearGlassModel]:
    """SVM softness and ridge propensity on configurations 1–10 of ``data`` (module notes)."""
    files = [data / path.name for path in TRAINING.values()]
    samples = [read_isoconfigurational(f, box_length=KA_BOX) for f in files]
    descriptors = SoftnessDescriptors()
    features = describe_samples(samples, descriptors)
    provenance = {
        "data": [f"{f.name} sha256:{hashlib.sha256(f.read_bytes()).hexdigest()[:16]}" for f in files],
        "system": "3D Kob-Andersen 80:20, T = 0.44, t ~ tau_alpha, box 15.05658 sigma_AA (BOTAN release)",
        "regenerate": "python -m engine.analysis.softness.shipped",
        "versions": {name: version(name) for name in ("numpy", "scikit-learn", "freud-analysis")},
    }
    svm = train_softness(samples, descriptors=descriptors, features=features)
    ridge = train_propensity_ridge(samples, descriptors=descriptors, features=features)
    svm.details.update(provenance)
    ridge.details.update(provenance)
    return svm, ridge


def load_shipped() -> tuple[LinearGlassModel, LinearGlassModel]:
    """The shipped (softness, propensity) models."""
    return load_model(SHIPPED_SOFTNESS), load_model(SHIPPED_PROPENSITY)


if __name__ == "__main__":
    soft, prop = train_shipped(Path(sys.argv[1]) if len(sys.argv) > 1 else _DATA)
    print(soft.save(SHIPPED_SOFTNESS), prop.save(SHIPPED_PROPENSITY))
