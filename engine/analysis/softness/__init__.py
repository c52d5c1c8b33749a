"""Glass softness (issue 15): structure functions, dynamics labels and models of rearrangement.

* :mod:`.structure_functions` — species-resolved radial and angular structure functions
  (Cubuk et al. 2015), vectorised over freud neighbour lists;
* :mod:`.descriptors` — the models' descriptor matrix (log-transformed, neighbour-averaged);
* :mod:`.isoconfig` — isoconfigurational ensembles and dynamic propensity;
* :mod:`.dynamics` — p_hop and hop detection from trajectories, Falk–Langer D²min;
* :mod:`.models` — linear-SVM softness and ridge regression of propensity, stored as JSON;
* :mod:`.shipped` — the models trained on the Kob–Andersen data that ship with matloop;
* :mod:`.softness_job` — the app's background job (kind ``glass-softness``) and its uploads.
"""
