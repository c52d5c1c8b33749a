"""Tension/compression splits of the strain energy density that drives phase-field damage.

The solver uses the *hybrid* formulation of Ambati, Gerasimov & De Lorenzis, "A review on
phase-field models of brittle fracture and a new fast hybrid formulation", Comput. Mech. 55,
383–405 (2015): the displacement problem keeps the isotropic degraded stress
``g(d) C : ε`` (linear, so the staggered solver and its reused factorisation stay as they are),
while damage is driven by the tensile part ``ψ⁺`` of the energy only, and the paper's
constraint ``∀x: ψ⁺ < ψ⁻ ⇒ d := 0`` (compression dominates) holds in two parts: such Gauss
points add no driving energy, and the damage may not grow at nodes where every Gauss point of
every element around them is such (it keeps its value there, irreversibility forbidding a
return to 0; :meth:`fem.phasefield_assembly.PhaseFieldAssembler.held_nodes`). The second part
keeps the diffuse AT2 tail of a crack, ``d ≈ exp(-r/ℓ)``, out of the compressed material beside
it: in the Miehe shear test (:func:`fem.reference.miehe_sens`) the largest damage above the
notch plane farther than 2ℓ from the tip falls from 0.114 to 0.012 (h = ℓ/2; 0.004 at h = ℓ/4),
and the peak rises from 0.5515 to 0.5595 kN (h = ℓ/2; 0.5352 to 0.5502 kN at h = ℓ/4, the
reference 0.531 kN). ``PhaseFieldProblem(hold_below=0)`` keeps only the first part. The hold
acts on that tail only, nodes with ``d < hold_below`` (1/2 by default; the AT2 profile
``exp(-r/ℓ)`` is above 1/2 within 0.69ℓ of a band's centre line): holding a band's own nodes as
well (solver version 7) left a bridge of d = 0.75 where a crack crossed a compressed block
corner, in one of 80 random 8×8 shear plates, while the plate carried less than 2 % of its peak
(:mod:`fem.fracture`, "Grips"); the Miehe shear test is the same both ways (peak 0.5595 kN and
0.012 above the notch plane at h = ℓ/2, 0.5502 kN and 0.0042 at h = ℓ/4).
The split is one of

- ``"none"``: ``ψ⁺ = ψ``, ``ψ⁻ = 0`` (isotropic model, as in the phasefieldx Miehe SENT run);
- ``"spectral"``: Miehe, Hofacker & Welschinger, CMAME 199, 2765–2778 (2010):
  ``ψ± = λ/2 ⟨tr ε⟩±² + μ Σᵢ ⟨εᵢ⟩±²`` over the principal strains ``εᵢ``;
- ``"voldev"``: Amor, Marigo & Maurini, J. Mech. Phys. Solids 57, 1209–1229 (2009):
  ``ψ⁺ = K/2 ⟨tr ε⟩₊² + μ ε_dev : ε_dev``, ``ψ⁻ = K/2 ⟨tr ε⟩₋²``.

A phase with a stated compressive strength also crushes: where its smallest principal stress is
below minus that strength the whole ``ψ`` drives the damage, whatever the split
(:meth:`fem.phasefield_assembly.PhaseFieldAssembler.driving_energy`).

``⟨x⟩± = (x ± |x|)/2``. Both splits act on the in-plane strain with the in-plane Lamé
parameters of the element (:func:`fem.materials.plane_lame`). In plane strain ``ε_zz = 0`` is a
principal strain carrying no energy, so the spectral split is exactly the 3D one; the
volumetric–deviatoric split is used in its 2D form (bulk modulus ``K = λ + μ``,
``ε_dev = ε - tr ε I / 2``). In every case ``ψ⁺ + ψ⁻ = ψ = λ/2 (tr ε)² + μ ε : ε`` (MPa for
MPa moduli).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["SPLITS", "Split", "check_split", "split_energy"]

Split = Literal["none", "spectral", "voldev"]
#: The splits :func:`split_energy` knows.
SPLITS: tuple[str, ...] = ("none", "spectral", "voldev")


def check_split(split: object) -> str:
    """``split`` if it is one of :data:`SPLITS`; ``ValueError`` naming the allowed ones otherwise."""
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    return split


def split_energy(
    exx: np.ndarray, eyy: np.ndarray, gxy: np.ndarray, lam: np.ndarray, mu: np.ndarray, split: Split
) -> tuple[np.ndarray, np.ndarray]:
    """Tensile and compressive parts ``(ψ⁺, ψ⁻)`` of the strain energy density.

    Parameters
    ----------
    exx, eyy, gxy : numpy.ndarray
        In-plane strains (engineering shear ``γ_xy = 2 ε_xy``), dimensionless, one shape.
    lam, mu : numpy.ndarray
        In-plane Lamé parameters (MPa), broadcastable to the strains.
    split : {"none", "spectral", "voldev"}
        See the module notes.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``ψ⁺`` and ``ψ⁻`` (MPa = mJ/mm³), both ``>= 0``, summing to the full energy density.
    """
    tr = exx + eyy
    if split == "none":
        psi = 0.5 * (lam * tr**2 + 2.0 * mu * (exx**2 + eyy**2) + mu * gxy**2)
        return psi, np.zeros_like(psi)
    tp, tn = np.maximum(tr, 0.0), np.minimum(tr, 0.0)
    if split == "spectral":
        radius = np.sqrt((0.5 * (exx - eyy)) ** 2 + (0.5 * gxy) ** 2)
        e1, e2 = 0.5 * tr + radius, 0.5 * tr - radius
        pos = 0.5 * lam * tp**2 + mu * (np.maximum(e1, 0.0) ** 2 + np.maximum(e2, 0.0) ** 2)
        neg = 0.5 * lam * tn**2 + mu * (np.minimum(e1, 0.0) ** 2 + np.minimum(e2, 0.0) ** 2)
        return pos, neg
    if split == "voldev":
        bulk = lam + mu
        dev = exx**2 + eyy**2 + 0.5 * gxy**2 - 0.5 * tr**2
        return 0.5 * bulk * tp**2 + mu * dev, 0.5 * bulk * tn**2
    raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
