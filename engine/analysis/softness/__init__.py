"""Glass softness (issue 15): structure functions, dynamics labels and models of rearrangement.

* :mod:`.structure_functions` — species-resolved radial and angular structure functions
  (Cubuk et al. 2015), vectorised over freud neighbour lists;
* :mod:`.descriptors` — the models' descriptor matrix (log-transformed, neighbour-averaged);
* :mod:`.isoconfig` — isoconfigurational ensembles and dynamic propensity;
* :mod:`.models` — linear-SVM softness and ridge regression of propensity, stored as JSON.
"""
