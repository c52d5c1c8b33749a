"""Glass softness (issue 15): structure functions, dynamics labels and models of rearrangement.

* :mod:`.structure_functions` — species-resolved radial and angular structure functions
  (Cubuk et al. 2015), vectorised over freud neighbour lists;
* :mod:`.descriptors` — the models' descriptor matrix (log-transformed, neighbour-averaged);
* :mod:`.isoconfig` — isoconfigurational ensembles and dynamic propensity;
* :mod:`.trajectory` — trajectories (unwrapped positions over time) and their files;
* :mod:`.npz` — .npz files opened without pickles, integer types named as species;
* :mod:`.inputs` — one reader for isoconfigurational files, trajectories and configurations;
* :mod:`.dynamics` — p_hop and hop detection from trajectories, Falk–Langer D²min;
* :mod:`.labels` — rearranging / non-rearranging particles of a trajectory from p_hop;
* :mod:`.models` — linear-SVM softness and ridge regression of propensity, stored as JSON;
* :mod:`.graph_network` — message passing over the ridge regression's prediction field (torch, CPU/CUDA);
* :mod:`.unsupervised` — averaged bond order → autoencoder → two-component mixture (Boattini et al. 2020);
* :mod:`.ka_md` — seeded Kob–Andersen molecular dynamics (OpenMM): liquid and quenched-glass snapshots;
* :mod:`.phase_classifier` — liquid-vs-glass snapshot classifier with attention (Swanson et al. 2020);
* :mod:`.shipped` — the models trained on the Kob–Andersen data that ship with matloop;
* :mod:`.catalog` — model references: shipped, files, and those trained into a store;
* :mod:`.prediction` — per-particle table of a configuration or trajectory (job and CLI);
* :mod:`.training` — training units from files, fitting and held-out scores (job and CLI);
* :mod:`.softness_job` — the app's prediction job (kind ``glass-softness``) and its uploads;
* :mod:`.train_job` — the app's training job (kind ``glass-softness-train``).
"""
