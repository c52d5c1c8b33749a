"""Companion analyses of particle systems: ``tracking/`` (holographic characterisation,
detection, track clustering), ``ordering/`` (crystal order) and ``softness/`` (glass softness).

They share the store, the job runner and the app with the design loop, not its physics:
nothing here imports :mod:`designs` or :mod:`fem` (a test checks it).
"""
