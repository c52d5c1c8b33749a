"""Sub-commands of the matloop command line, one module each with a ``register`` function."""
