"""The ``matloop`` command line: :mod:`.main` builds the parser and runs a sub-command.

One module per sub-command (``doctor``, ``store``, ``jobs``, ``label``, ``spinodoid``,
``train``), each with a ``register(subparsers)`` function; :mod:`.common` holds what they share
(opening the store, the progress line). Commands call the public functions of the other engine
packages and print; no physics or learning lives here.
"""

from engine.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
