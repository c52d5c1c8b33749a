"""Schema of the campaign store and its migration path.

The schema version lives in SQLite's ``PRAGMA user_version``. ``MIGRATIONS[v]`` turns a store
of version ``v - 1`` into version ``v``; opening an older store applies the missing steps in
one transaction, opening a newer one is refused (written by a newer matloop).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from engine.store.migration_v3 import migrate_to_v3

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "migrate"]

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE designs (
    hash       TEXT PRIMARY KEY,
    space      TEXT NOT NULL,
    genome     TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX designs_space ON designs(space);
CREATE TABLE labels (
    id             INTEGER PRIMARY KEY,
    design_hash    TEXT NOT NULL REFERENCES designs(hash),
    solver         TEXT NOT NULL,
    solver_version TEXT NOT NULL,
    fidelity       TEXT NOT NULL,
    config_hash    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    reason         TEXT,
    metrics        TEXT NOT NULL,
    wall_time      REAL,
    created_at     REAL NOT NULL,
    UNIQUE (design_hash, solver, solver_version, fidelity, config_hash)
);
CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    config     TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE campaign_designs (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    design_hash TEXT NOT NULL REFERENCES designs(hash),
    added_at    REAL NOT NULL,
    PRIMARY KEY (campaign_id, design_hash)
);
CREATE TABLE models (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    path         TEXT NOT NULL,
    weights_hash TEXT NOT NULL,
    campaign_id  INTEGER REFERENCES campaigns(id),
    metrics      TEXT NOT NULL,
    created_at   REAL NOT NULL
);
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    params           TEXT NOT NULL,
    status           TEXT NOT NULL,
    progress         REAL NOT NULL DEFAULT 0,
    message          TEXT NOT NULL DEFAULT '',
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       REAL NOT NULL,
    started_at       REAL,
    finished_at      REAL
);
"""

# Version 2: jobs keep their result and the process that runs them (to detect jobs whose
# process died), labels are looked up by solver key, and labels keep the solver settings.
_V2 = """
ALTER TABLE jobs ADD COLUMN result TEXT;
ALTER TABLE jobs ADD COLUMN owner_pid INTEGER;
ALTER TABLE labels ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
CREATE INDEX labels_solver_key ON labels(solver, solver_version, fidelity, config_hash);
CREATE INDEX jobs_created ON jobs(created_at);
"""


# Version 4: the candidates a campaign proposed, in order and by batch, and how many batches
# had been told to the strategy when each batch was asked (so that a restarted campaign can
# replay its strategy exactly); their labels are found by the campaign's evaluator key, so a
# candidate is pending until its design has that label.
_V4 = """
CREATE TABLE campaign_candidates (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    seq         INTEGER NOT NULL,
    batch       INTEGER NOT NULL,
    told        INTEGER NOT NULL,
    design_hash TEXT NOT NULL REFERENCES designs(hash),
    created_at  REAL NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);
"""


# Version 5: the solver key a campaign labels under (name, version, fidelity, settings hash),
# recorded with its first batch, so that a campaign whose solver version has since been bumped is
# known as such and never mixes labels of two versions (NULL in campaigns of older stores).
_V5 = """
ALTER TABLE campaigns ADD COLUMN solver_key TEXT;
"""


# Version 6: the surrogate's prediction of each candidate, kept when the strategy proposed it (NULL:
# not predicted), so that a campaign's surrogate accuracy is read from the store, not from a replay of
# its strategy; ``predictions_kept`` says a campaign's candidates carry them (0 for the campaigns of
# older stores until their strategy is replayed once).
_V6 = """
ALTER TABLE campaign_candidates ADD COLUMN prediction REAL;
ALTER TABLE campaigns ADD COLUMN predictions_kept INTEGER NOT NULL DEFAULT 0;
"""


# Version 7: the process running a campaign (its id and :func:`engine.store.database` process namespace),
# recorded when the campaign is marked running and cleared when it pauses or finishes, so that a campaign
# whose run was killed reads as interrupted, and a second run of a campaign that is running is refused.
_V7 = """
ALTER TABLE campaigns ADD COLUMN runner_pid INTEGER;
ALTER TABLE campaigns ADD COLUMN runner_host TEXT;
"""


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def apply(connection: sqlite3.Connection) -> None:
        for statement in sql.split(";"):
            if statement.strip():
                connection.execute(statement)

    return apply


#: Migration steps, keyed by the version they produce. Version 3 (:mod:`.migration_v3`): fracture
#: labels keyed by fully resolved settings, renamed fast-fidelity metrics.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _script(_V1), 2: _script(_V2), 3: migrate_to_v3, 4: _script(_V4), 5: _script(_V5), 6: _script(_V6),
    7: _script(_V7),
}

#: Version written by this matloop.
SCHEMA_VERSION = max(MIGRATIONS)


def migrate(connection: sqlite3.Connection, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Bring the database to schema ``target`` inside one transaction.

    Parameters
    ----------
    connection : sqlite3.Connection
        Open connection in autocommit mode (``isolation_level=None``).
    target : int
        Schema version to reach; defaults to the newest.

    Returns
    -------
    tuple of int
        ``(version before, version after)``.

    Raises
    ------
    ValueError
        If the database is newer than ``target``.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        before = connection.execute("PRAGMA user_version").fetchone()[0]
        if before > target:
            raise ValueError(
                f"store schema version {before} is newer than this matloop understands ({target}); "
                "upgrade matloop to open it"
            )
        for version in range(before + 1, target + 1):
            MIGRATIONS[version](connection)
            connection.execute(f"PRAGMA user_version = {int(version)}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return before, target
