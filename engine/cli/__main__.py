"""``python -m engine.cli``: the ``matloop`` command line."""

import sys

from engine.cli.main import main

sys.exit(main())
