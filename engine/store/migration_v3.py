"""Schema version 3: fracture labels keyed by their fully resolved settings, metric names that say what they are.

Up to version 2 a fracture label's key held only the options the caller had given, so ``{}``
from the API and the command line's explicit defaults made two keys for the same physics (and
a design could be labelled under both). This step rewrites the key of every label of
``phasefield-at2`` version 2 to the settings of that version with the defaults filled in (the
values below are frozen: they describe version 2 for good, whatever later versions default to).
Where two labels of one design collapse onto one key, the older stays and the newer moves, as
it was stored, to ``labels_superseded`` (nothing is deleted, nothing recomputed). Fast labels' metric
``energy_release_rate`` (which was G per unit stress squared) becomes
``energy_release_rate_per_stress_squared`` and ``k_tip`` becomes ``stress_intensity_per_stress``;
models trained on those targets are renamed alike.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from designs.base import canonical_json
from engine.store.records import SolverKey

__all__ = ["PHASEFIELD_V2_SETTINGS", "METRIC_RENAMES", "resolve_phasefield_v2", "migrate_to_v3"]

#: Every setting of ``phasefield-at2`` version 2 with its default (``fem.fracture.PlateSetup`` then).
PHASEFIELD_V2_SETTINGS: dict[str, Any] = {
    "crack_length": 0.2,
    "mode": "I",
    "plane": "stress",
    "elements_per_block": 8,
    "ell_per_block": 0.25,
    "materials": {
        "soft": {"E": 100.0, "nu": 0.33, "failure_strain": 0.4},
        "stiff": {"E": 1000.0, "nu": 0.33, "failure_strain": 0.04},
    },
    "du_max_strain": 1e-2,
    "max_strain": 0.5,
    "end_fraction": 0.1,
    "stagger_tol": 3e-3,
    "stagger_max_iter": 300,
    "max_nonconverged": 20,
}
#: Old metric name → new metric name.
METRIC_RENAMES = {"energy_release_rate": "energy_release_rate_per_stress_squared", "k_tip": "stress_intensity_per_stress"}

#: The archive has the columns of ``labels`` (without its constraints) and says what superseded a row.
_SCHEMA = (
    "CREATE TABLE labels_superseded AS SELECT * FROM labels WHERE 0",
    "ALTER TABLE labels_superseded ADD COLUMN superseded_by INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE labels_superseded ADD COLUMN superseded_at REAL NOT NULL DEFAULT 0",
)
_COLUMNS = "id, design_hash, solver, solver_version, fidelity, config_hash, config, status, reason, metrics, wall_time, created_at"


def resolve_phasefield_v2(config: dict[str, Any]) -> dict[str, Any]:
    """Settings of a version-2 fracture label: the frozen defaults updated by its stored options."""
    resolved = {**PHASEFIELD_V2_SETTINGS, **config}
    for name, default in PHASEFIELD_V2_SETTINGS.items():
        if isinstance(default, (int, float)) and not isinstance(resolved[name], bool):
            resolved[name] = type(default)(resolved[name])
    return resolved


def _renamed(metrics: dict[str, Any]) -> dict[str, Any]:
    return {METRIC_RENAMES.get(name, name): value for name, value in metrics.items()}


def migrate_to_v3(connection: sqlite3.Connection) -> None:
    """Apply version 3 inside the caller's transaction (see the module docstring)."""
    for statement in _SCHEMA:
        connection.execute(statement)
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM labels WHERE solver = 'phasefield-at2' AND solver_version = '2' ORDER BY id"
    ).fetchall()
    keepers: dict[tuple[str, str, str], int] = {}
    updates, superseded = [], []
    for row in rows:
        label_id, design_hash, solver, version, fidelity = row[:5]
        settings = resolve_phasefield_v2(json.loads(row[6]))
        key = SolverKey(solver, version, fidelity, settings)
        metrics = canonical_json(_renamed(json.loads(row[9])))
        first = keepers.setdefault((design_hash, fidelity, key.config_hash), label_id)
        if first == label_id:
            updates.append((key.config_hash, canonical_json(settings), metrics, label_id))
        else:
            superseded.append((*row, first, time.time()))  # kept as it was stored
    # move the duplicates out first, so that no update meets the UNIQUE key of another row
    connection.executemany(f"INSERT INTO labels_superseded({_COLUMNS}, superseded_by, superseded_at) "
                           f"VALUES ({', '.join('?' * 14)})", superseded)
    connection.executemany("DELETE FROM labels WHERE id = ?", [(row[0],) for row in superseded])
    connection.executemany("UPDATE labels SET config_hash = ?, config = ?, metrics = ? WHERE id = ?", updates)
    for model_id, metrics in connection.execute("SELECT id, metrics FROM models").fetchall():
        values = json.loads(metrics)
        if values.get("target") in METRIC_RENAMES:
            values["target"] = METRIC_RENAMES[values["target"]]
            connection.execute("UPDATE models SET metrics = ? WHERE id = ?", (canonical_json(values), model_id))
