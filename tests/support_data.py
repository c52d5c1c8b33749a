"""Paths of the reference data in ``tests/data`` (provenance and licences lie next to the files)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
#: Kumar et al. (2020) spinodoid stiffness data set (21 300 rows).
KUMAR2020_CSV = DATA_DIR / "spinodoids" / "kumar2020_data.csv"
#: Three Kob–Andersen glass configurations (BOTAN release, Shiba et al. 2023), ``types`` and
#: ``initial_positions`` only; one ``ka3d_T0.44_config<k>.npz`` per configuration.
GLASS_DIR = DATA_DIR / "glass"
