"""Crystal order of particle environments (issue 14, first part: systems, descriptors, MLP).

Modules, one job each:

* :mod:`.systems` — :class:`ParticleSystem` (positions, freud box, labels);
* :mod:`.readers` — XYZ and CSV-with-box files;
* :mod:`.lattices` — seeded sc, bcc, fcc, hcp, diamond and 2D hexagonal crystals with
  Lindemann noise; :mod:`.liquids` — relaxed random packings; :mod:`.mixtures` — crystal slab
  in liquid, fcc/hcp stackings, with true labels;
* :mod:`.neighbors` — neighbour definitions (count, Voronoi, SANN) and float64 geometry;
* descriptors: :mod:`.steinhardt` (q_l, ŵ_l, Lechner–Dellago, Minkowski),
  :mod:`.symmetry_functions` (Behler–Parrinello G2, G4), :mod:`.shells` (shell counts),
  :mod:`.coherence` (ten Wolde–Frenkel bond coherence d̄_l);
* learning: :mod:`.features` (the bond-order feature vector), :mod:`.supervised` (MLP with
  confidence and "other", q6-threshold baseline, synthetic training set; import it from
  its module, so that reading and describing systems does not load scikit-learn);
* unsupervised (import from their modules too, they load scikit-learn or torch):
  :mod:`.mixture_model` (Gaussian mixture, K by BIC), :mod:`.mixture_net` (a net learns the
  mixture's classes, Spellings & Glotzer), :mod:`.density_clusters` (DBSCAN with
  archetypes), :mod:`.autoencoder` (autoencoder + Gaussian mixture on the code),
  :mod:`.diffusion_map` (Coifman–Lafon diffusion maps).

Nothing here imports :mod:`designs` or :mod:`fem`.
"""

from .coherence import bond_coherence
from .features import FEATURE_NAMES, bond_order_features
from .lattices import LATTICES, lattice, lattice_sites
from .liquids import liquid
from .mixtures import fcc_hcp, slab_in_liquid, stacking
from .neighbors import neighbor_list
from .readers import read_csv, read_xyz
from .shells import mean_nn_distance, shell_counts
from .steinhardt import minkowski, steinhardt
from .symmetry_functions import g2, g4
from .systems import ParticleSystem

__all__ = [
    "FEATURE_NAMES",
    "LATTICES",
    "bond_coherence",
    "bond_order_features",
    "ParticleSystem",
    "fcc_hcp",
    "g2",
    "g4",
    "lattice",
    "lattice_sites",
    "liquid",
    "mean_nn_distance",
    "minkowski",
    "neighbor_list",
    "read_csv",
    "read_xyz",
    "shell_counts",
    "slab_in_liquid",
    "stacking",
    "steinhardt",
]
