"""Schema version 3: fracture labels keyed by their fully resolved settings, metric names that say what they are.

Up to version 2 a fracture label's key held only the options the caller had given, so ``{}``
from the API and the command line's explicit defaults made two keys for the same physics (and
a design could be labelled under both). This step rewrites the key of every label of
``phasefield-at2`` version 2 to the settings of that version with the defaults filled in and
those its fidelity does not use left out (the values below are frozen: they describe version 2
for good, whatever later versions default to). A label whose stored options cannot be read, or
do not match its key, keeps its key untouched. Where two labels of one design collapse onto one key, the older stays and the newer moves, as
it was stored, to ``labels_superseded`` (nothing is deleted, nothing recomputed). Fast labels' metric
``energy_release_rate`` (which was G per unit stress squared) becomes
``energy_release_rate_per_stress_squared`` and ``k_tip`` becomes ``stress_intensity_per_stress``;
models trained on those targets are renamed alike. Jobs get the column ``owner_host`` (which
host and process namespace runs them), so that a job is only declared orphaned by a process
that can see its owner.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from typing import Any

from designs.base import canonical_json
from engine.store.records import SolverKey

__all__ = ["PHASEFIELD_V2_SETTINGS", "PHASEFIELD_V2_UNUSED", "METRIC_RENAMES", "resolve_phasefield_v2", "migrate_to_v3"]

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
#: Settings a version-2 label of each fidelity did not use (dropped from its key).
PHASEFIELD_V2_UNUSED: dict[str, tuple[str, ...]] = {
    "fast": ("ell_per_block", "du_max_strain", "max_strain", "end_fraction", "stagger_tol", "stagger_max_iter",
             "max_nonconverged"),
    "strength": ("end_fraction",),
    "full": (),
}
_CHOICES = {"mode": ("I", "II"), "plane": ("stress", "strain")}
#: Old metric name → new metric name.
METRIC_RENAMES = {"energy_release_rate": "energy_release_rate_per_stress_squared", "k_tip": "stress_intensity_per_stress"}

#: The archive has the columns of ``labels`` (without its constraints) and says what superseded a row.
_SCHEMA = (
    "CREATE TABLE labels_superseded AS SELECT * FROM labels WHERE 0",
    "ALTER TABLE labels_superseded ADD COLUMN superseded_by INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE labels_superseded ADD COLUMN superseded_at REAL NOT NULL DEFAULT 0",
)
_COLUMNS = "id, design_hash, solver, solver_version, fidelity, config_hash, config, status, reason, metrics, wall_time, created_at"


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _normalised(name: str, value: Any) -> Any:
    """A stored option as version 2's ``PlateSetup`` took it, or ``None`` if it would have refused it."""
    default = PHASEFIELD_V2_SETTINGS.get(name)
    if name in _CHOICES:
        return value if value in _CHOICES[name] else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if isinstance(default, int):
        return int(value) if float(value).is_integer() else None
    return float(value) if isinstance(default, float) else None


def resolve_phasefield_v2(config: Any, fidelity: str) -> dict[str, Any] | None:
    """Key settings of a version-2 fracture label, or ``None`` when its stored options cannot be read.

    The frozen defaults updated by the stored options, less the settings the fidelity does not
    use (fast labels keep only the elastic constants of the phases).
    """
    if not isinstance(config, dict) or fidelity not in PHASEFIELD_V2_UNUSED:
        return None
    resolved = dict(PHASEFIELD_V2_SETTINGS)
    for name, value in config.items():
        resolved[name] = _normalised(name, value)
        if resolved[name] is None:
            return None
    for name in PHASEFIELD_V2_UNUSED[fidelity]:
        del resolved[name]
    if fidelity == "fast":
        resolved["materials"] = {name: {"E": p["E"], "nu": p["nu"]} for name, p in resolved["materials"].items()}
    return resolved


def _renamed(metrics: dict[str, Any]) -> dict[str, Any]:
    """Old metric names replaced, unless the new name is taken already (then both stay)."""
    out = dict(metrics)
    for old, new in METRIC_RENAMES.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    return out


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
        label_id, design_hash, solver, version, fidelity, config_hash = row[:6]
        config, metrics = _loads(row[6]), _loads(row[9])
        settings = resolve_phasefield_v2(config, fidelity)
        # rows whose options are unreadable, or do not match their key (schema 1 kept only the
        # hash), keep their old key: nothing can say which physics they belong to
        if settings is None or SolverKey(solver, version, fidelity, config).config_hash != config_hash:
            continue
        key = SolverKey(solver, version, fidelity, settings)
        new_metrics = canonical_json(_renamed(metrics)) if isinstance(metrics, dict) else row[9]
        first = keepers.setdefault((design_hash, fidelity, key.config_hash), label_id)
        if first == label_id:
            updates.append((key.config_hash, canonical_json(settings), new_metrics, label_id))
        else:
            superseded.append((*row, first, time.time()))  # kept as it was stored
    # move the duplicates out first, so that no update meets the UNIQUE key of another row
    connection.executemany(f"INSERT INTO labels_superseded({_COLUMNS}, superseded_by, superseded_at) "
                           f"VALUES ({', '.join('?' * 14)})", superseded)
    connection.executemany("DELETE FROM labels WHERE id = ?", [(row[0],) for row in superseded])
    connection.executemany("UPDATE labels SET config_hash = ?, config = ?, metrics = ? WHERE id = ?", updates)
    for model_id, name, metrics in connection.execute("SELECT id, name, metrics FROM models").fetchall():
        values = _loads(metrics)
        if isinstance(values, dict) and values.get("target") in METRIC_RENAMES:
            old = values["target"]
            values["target"] = METRIC_RENAMES[old]
            connection.execute("UPDATE models SET name = ?, metrics = ? WHERE id = ?",
                               (name.replace(old, values["target"]), canonical_json(values), model_id))
    connection.execute("ALTER TABLE jobs ADD COLUMN owner_host TEXT")
