"""Evaluators: the one way a design gets a label.

- :mod:`.protocol` — :class:`Evaluator` (name, version, fidelity, fully resolved settings, the
  store key built from them, the metric table with units) and :class:`Evaluation` (status,
  reason, metrics, wall time).
- :mod:`.fracture` — phase-field / LEFM fracture of checkerboard and hierarchical plates.
- :mod:`.spinodoid` — voxel homogenisation of spinodoids (6×6 stiffness).
- :mod:`.labelling` — label a batch through an executor into the store, skipping what is stored.

Campaigns, the command line and the pages talk to evaluators, never to solver internals.
"""
