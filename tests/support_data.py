"""Paths of the reference data in ``tests/data`` (provenance and licences lie next to the files)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
#: Kumar et al. (2020) spinodoid stiffness data set (21 300 rows).
KUMAR2020_CSV = DATA_DIR / "spinodoids" / "kumar2020_data.csv"
