"""Campaign store: one SQLite file (WAL mode) per project directory.

It holds designs (keyed by the content hash of their canonical encoding), labels (one per
design and solver configuration, ok or failed with a reason), campaigns, trained models and
background jobs. Every write is a transaction, so a killed process leaves a consistent file
and loses at most the work that was in flight; the ``UNIQUE`` solver key makes sure no design
is labelled twice under the same solver configuration, also with several writers at once.

A ``Store`` object holds only its path: each call opens its own short-lived connection, so the
object can be shared between threads and recreated in worker processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from designs.base import Design, canonical_json, content_hash
from engine.store.records import (FINISHED_JOB_STATES, DesignRecord, JobRecord, LabelRecord, SolverKey, StoreStatus,
                                  StoredKey)
from engine.store.schema import migrate

__all__ = ["DEFAULT_STORE_FILENAME", "StoreError", "Store", "resolve_store_path"]

#: File name of the store inside a project directory.
DEFAULT_STORE_FILENAME = "matloop.sqlite"
_FILE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
_BUSY_TIMEOUT_MS = 30_000
_IN_CHUNK = 500  # hashes per "IN (...)" query, well below SQLite's limit on bound parameters


class StoreError(ValueError):
    """The store cannot be opened or used; the message says why and what to do."""


def resolve_store_path(path: str | os.PathLike[str]) -> Path:
    """Map a user-given store location to the SQLite file.

    Parameters
    ----------
    path : str or path-like
        Either a file ending in ``.sqlite``, ``.sqlite3`` or ``.db``, or a project directory
        (the store is then ``<dir>/matloop.sqlite``).

    Returns
    -------
    pathlib.Path
        Absolute path of the SQLite file.
    """
    text = os.fspath(path).strip()
    if not text:
        raise StoreError("store path is empty; give a project directory or a .sqlite file")
    resolved = Path(text).expanduser().absolute()
    if resolved.suffix.lower() in _FILE_SUFFIXES and not resolved.is_dir():
        return resolved
    return resolved / DEFAULT_STORE_FILENAME


def _check_directory(directory: Path, create: bool) -> None:
    if not directory.exists():
        if not create:
            raise StoreError(
                f"store directory {directory} does not exist; create it first or choose another path"
            )
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store directory {directory}: {exc.strerror}") from None
    if not directory.is_dir():
        raise StoreError(f"store location {directory} is not a directory")
    # A real write probe: permission bits do not tell the whole truth (root, read-only mounts),
    # and SQLite in WAL mode needs to create -wal and -shm files next to the database.
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".matloop-probe-"):
            pass
    except OSError as exc:
        raise StoreError(
            f"store directory {directory} is not writable ({exc.strerror}); "
            "choose a directory you can write to"
        ) from None


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Store:
    """The campaign store of one project.

    Parameters
    ----------
    path : str or path-like
        Project directory or ``.sqlite`` file (see :func:`resolve_store_path`).
    create : bool
        Create the database (and, for the default project directory, the directory) if it
        does not exist. With ``False`` a missing file is an error.
    create_directory : bool
        Also create a missing directory. Off by default so that a mistyped path is reported
        rather than silently created.

    Raises
    ------
    StoreError
        Directory missing or not writable, file not a SQLite database or not a matloop store,
        or a store written by a newer matloop.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        create_directory: bool = False,
    ) -> None:
        self._path = resolve_store_path(path)
        _check_directory(self._path.parent, create_directory)
        if not self._path.exists() and not create:
            raise StoreError(f"no store at {self._path}; run 'matloop store init' to create one")
        if self._path.exists() and self._path.is_dir():
            raise StoreError(f"store file {self._path} is a directory")
        self._open_and_migrate()

    # ------------------------------------------------------------------ plumbing
    @property
    def path(self) -> Path:
        """Absolute path of the SQLite file."""
        return self._path

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    def _open_and_migrate(self) -> None:
        try:
            connection = self._connect()
            try:
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"store {self._path} cannot use WAL journaling (got {mode!r})")
                tables = {
                    row[0]
                    for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                if tables and (version == 0 or "meta" not in tables):
                    raise StoreError(
                        f"{self._path} is a SQLite database but not a matloop store "
                        f"(it has tables {sorted(tables)[:5]}); choose another path"
                    )
                before, after = migrate(connection)
                if before == 0:
                    with self._transaction(connection):
                        connection.executemany(
                            "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)",
                            [("created_at", str(time.time())), ("application", "matloop")],
                        )
            finally:
                connection.close()
        except StoreError:
            raise
        except ValueError as exc:
            raise StoreError(f"cannot open store {self._path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self._path} is not a usable matloop store (SQLite: {exc}); "
                "the file is corrupt or of another kind: move it away or choose another path"
            ) from None
        except Exception as exc:  # noqa: BLE001 - a migration step met data it cannot read
            raise StoreError(
                f"cannot bring store {self._path} up to date ({type(exc).__name__}: {exc}); "
                "the file is unchanged (the migration runs in one transaction)"
            ) from None

    @contextmanager
    def _transaction(self, connection: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
        """Write transaction (``BEGIN IMMEDIATE``) committed on success, rolled back on error."""
        own = connection is None
        connection = self._connect() if own else connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        finally:
            if own:
                connection.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            yield connection
        finally:
            connection.close()

    def integrity_check(self) -> str:
        """Run SQLite's integrity check; returns ``"ok"`` for a healthy file."""
        with self._read() as connection:
            return connection.execute("PRAGMA integrity_check").fetchone()[0]

    def status(self) -> StoreStatus:
        """Counts of what the store holds."""
        with self._read() as c:
            one = lambda sql: c.execute(sql).fetchone()[0]  # noqa: E731
            return StoreStatus(
                path=self._path,
                schema_version=one("PRAGMA user_version"),
                size_bytes=self._path.stat().st_size if self._path.exists() else 0,
                designs=one("SELECT COUNT(*) FROM designs"),
                labels_ok=one("SELECT COUNT(*) FROM labels WHERE status='ok'"),
                labels_failed=one("SELECT COUNT(*) FROM labels WHERE status='failed'"),
                labels_superseded=one("SELECT COUNT(*) FROM labels_superseded"),
                campaigns=one("SELECT COUNT(*) FROM campaigns"),
                models=one("SELECT COUNT(*) FROM models"),
                jobs=one("SELECT COUNT(*) FROM jobs"),
                jobs_running=one("SELECT COUNT(*) FROM jobs WHERE status IN ('queued','running')"),
            )

    # ------------------------------------------------------------------ designs
    def add_design(self, space: str, genome: Any) -> str:
        """Store a design given by its space and canonical genome; returns its content hash.

        Adding a design that is already stored changes nothing and returns the same hash.
        """
        return self.add_designs([(space, genome)])[0]

    def add(self, design: Design) -> str:
        """Store a :class:`designs.base.Design`; returns its content hash."""
        return self.add_design(design.space, design.genome())

    def add_designs(self, items: Iterable[Design | tuple[str, Any]]) -> list[str]:
        """Store many designs in one transaction; returns their hashes in input order."""
        rows = []
        for item in items:
            space, genome = (item.space, item.genome()) if isinstance(item, Design) else item
            if not isinstance(space, str) or not space:
                raise StoreError(f"design space must be a non-empty string, got {space!r}")
            try:
                encoded = canonical_json(genome)
            except (TypeError, ValueError) as exc:
                raise StoreError(f"design genome is not canonical JSON: {exc}") from None
            rows.append((content_hash(space, genome), space, encoded, time.time()))
        with self._transaction() as c:
            c.executemany(
                "INSERT OR IGNORE INTO designs(hash, space, genome, created_at) VALUES (?,?,?,?)", rows
            )
        return [row[0] for row in rows]

    def get_design(self, design_hash: str) -> tuple[str, Any]:
        """Return ``(space, genome)`` of a stored design; ``KeyError`` if unknown."""
        with self._read() as c:
            row = c.execute("SELECT space, genome FROM designs WHERE hash=?", (design_hash,)).fetchone()
        if row is None:
            raise KeyError(f"no design with hash {design_hash}")
        return row["space"], json.loads(row["genome"])

    def has_design(self, design_hash: str) -> bool:
        """True if a design with this content hash is stored."""
        with self._read() as c:
            return c.execute("SELECT 1 FROM designs WHERE hash=?", (design_hash,)).fetchone() is not None

    def designs(self, space: str | None = None, hashes: Iterable[str] | None = None) -> list[DesignRecord]:
        """Stored designs, oldest first: all, those of one ``space`` and/or those with the given ``hashes``.

        Hashes that are not stored are left out (compare with the input to find them).
        """
        clauses, args = [], []
        if space is not None:
            clauses.append("space=?")
            args.append(space)
        chunks: list[list[str]] = [[]]
        if hashes is not None:
            wanted = list(dict.fromkeys(hashes))
            chunks = [wanted[i:i + _IN_CHUNK] for i in range(0, len(wanted), _IN_CHUNK)]
        rows = []
        with self._read() as c:
            for chunk in chunks:
                where = clauses + ([f"hash IN ({','.join('?' * len(chunk))})"] if hashes is not None else [])
                sql = "SELECT rowid, hash, space, genome, created_at FROM designs" + (
                    f" WHERE {' AND '.join(where)}" if where else "")
                rows.extend(c.execute(sql, [*args, *chunk]).fetchall())
        rows.sort(key=lambda row: row["rowid"])  # the order they were stored in
        return [DesignRecord(row["hash"], row["space"], json.loads(row["genome"]), row["created_at"]) for row in rows]

    def count_designs(self, space: str | None = None) -> int:
        """Number of stored designs, optionally of one space."""
        with self._read() as c:
            if space is None:
                return c.execute("SELECT COUNT(*) FROM designs").fetchone()[0]
            return c.execute("SELECT COUNT(*) FROM designs WHERE space=?", (space,)).fetchone()[0]

    # ------------------------------------------------------------------ labels
    def put_label(
        self,
        design_hash: str,
        key: SolverKey,
        metrics: Mapping[str, Any],
        *,
        status: str = "ok",
        reason: str | None = None,
        wall_time: float | None = None,
    ) -> bool:
        """Store one label in its own transaction.

        Returns
        -------
        bool
            True if stored, False if this design already had a label under ``key`` (the first
            label wins, so concurrent labellers never overwrite each other).
        """
        if status not in ("ok", "failed"):
            raise StoreError(f"label status must be 'ok' or 'failed', got {status!r}")
        if status == "failed" and not reason:
            raise StoreError("a failed label needs a reason")
        try:
            encoded = canonical_json(dict(metrics))
        except (TypeError, ValueError) as exc:
            raise StoreError(f"label metrics are not JSON-serialisable: {exc}") from None
        with self._transaction() as c:
            if c.execute("SELECT 1 FROM designs WHERE hash=?", (design_hash,)).fetchone() is None:
                raise StoreError(f"cannot label unknown design {design_hash}; add the design first")
            cursor = c.execute(
                "INSERT OR IGNORE INTO labels(design_hash, solver, solver_version, fidelity, "
                "config_hash, config, status, reason, metrics, wall_time, created_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    design_hash, key.name, key.version, key.fidelity, key.config_hash,
                    canonical_json(dict(key.config)), status, reason, encoded, wall_time, time.time(),
                ),
            )
            return cursor.rowcount == 1

    @staticmethod
    def _label(row: sqlite3.Row) -> LabelRecord:
        return LabelRecord(
            design_hash=row["design_hash"], solver=row["solver"],
            solver_version=row["solver_version"], fidelity=row["fidelity"],
            config_hash=row["config_hash"], status=row["status"], reason=row["reason"],
            metrics=json.loads(row["metrics"]), wall_time=row["wall_time"],
            created_at=row["created_at"],
        )

    _KEY_SQL = "solver=? AND solver_version=? AND fidelity=? AND config_hash=?"

    @staticmethod
    def _key_args(key: SolverKey | StoredKey) -> tuple[str, str, str, str]:
        return key.name, key.version, key.fidelity, key.config_hash

    def get_label(self, design_hash: str, key: SolverKey) -> LabelRecord | None:
        """The label of a design under ``key``, or None."""
        with self._read() as c:
            row = c.execute(
                f"SELECT * FROM labels WHERE design_hash=? AND {self._KEY_SQL}",
                (design_hash, *self._key_args(key)),
            ).fetchone()
        return None if row is None else self._label(row)

    def labelled_hashes(self, key: SolverKey) -> set[str]:
        """Hashes of all designs that have a label (ok or failed) under ``key``."""
        with self._read() as c:
            rows = c.execute(f"SELECT design_hash FROM labels WHERE {self._KEY_SQL}", self._key_args(key))
            return {row[0] for row in rows}

    def label_keys(self, solver: str, fidelity: str, hashes: Iterable[str]) -> list[tuple[StoredKey, int]]:
        """The keys (any version and settings) under which ``solver`` labelled some of the designs ``hashes``
        at ``fidelity``, with how many of them each labelled, most first."""
        wanted = set(hashes)
        counts: dict[StoredKey, int] = {}
        with self._read() as c:
            rows = c.execute("SELECT design_hash, solver_version, config_hash FROM labels WHERE solver=? AND fidelity=?",
                             (solver, fidelity))
            for design_hash, version, config_hash in rows:
                if design_hash in wanted:
                    key = StoredKey(solver, version, fidelity, config_hash)
                    counts[key] = counts.get(key, 0) + 1
        return sorted(counts.items(), key=lambda item: -item[1])

    def labels(self, key: SolverKey | StoredKey | None = None, *, status: str | None = None) -> list[LabelRecord]:
        """All labels, optionally of one solver key and/or status, oldest first."""
        clauses, args = [], []
        if key is not None:
            clauses.append(self._KEY_SQL)
            args.extend(self._key_args(key))
        if status is not None:
            clauses.append("status=?")
            args.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as c:
            rows = c.execute(f"SELECT * FROM labels{where} ORDER BY id", args).fetchall()
        return [self._label(row) for row in rows]

    # ------------------------------------------------------------------ campaigns
    def create_campaign(self, name: str, config: Mapping[str, Any], state: str = "created") -> int:
        """Create a campaign; names are unique. Returns its id."""
        now = time.time()
        try:
            with self._transaction() as c:
                cursor = c.execute(
                    "INSERT INTO campaigns(name, config, state, created_at, updated_at, predictions_kept) "
                    "VALUES (?,?,?,?,?,1)",
                    (name, canonical_json(dict(config)), state, now, now),
                )
                return int(cursor.lastrowid)
        except sqlite3.IntegrityError:
            raise StoreError(f"a campaign named {name!r} already exists; choose another name") from None

    def set_campaign_state(self, campaign_id: int, state: str) -> None:
        """Record a campaign's state (``running``, ``paused``, ``finished``).

        ``running`` records this process as the campaign's runner (any other state clears it), so that a
        campaign whose run was killed reads as ``interrupted`` (:meth:`campaigns`).

        Raises
        ------
        StoreError
            No such campaign, or ``running`` while another live process on this machine runs the campaign
            (two runs at once would propose and label the same batch twice).
        """
        here = _process_namespace()
        with self._transaction() as c:
            row = c.execute("SELECT name, state, runner_pid, runner_host FROM campaigns WHERE id=?",
                            (campaign_id,)).fetchone()
            if row is None:
                raise StoreError(f"no campaign with id {campaign_id}")
            if (state == "running" and row["state"] == "running" and row["runner_pid"] != os.getpid()
                    and _runner_alive(row, here) is True):
                raise StoreError(f"campaign {row['name']!r} is being run by process {row['runner_pid']} on this "
                                 "machine; stop that run first (Ctrl-C where it runs, or Stop on the Campaigns page): "
                                 "two runs at once would label the same designs twice")
            runner = (os.getpid(), here) if state == "running" else (None, None)
            c.execute("UPDATE campaigns SET state=?, updated_at=?, runner_pid=?, runner_host=? WHERE id=?",
                      (state, time.time(), *runner, campaign_id))

    def add_to_campaign(self, campaign_id: int, design_hashes: Iterable[str]) -> None:
        """Link stored designs to a campaign (idempotent)."""
        now = time.time()
        with self._transaction() as c:
            c.executemany(
                "INSERT OR IGNORE INTO campaign_designs(campaign_id, design_hash, added_at) VALUES (?,?,?)",
                [(campaign_id, h, now) for h in design_hashes],
            )

    def set_campaign_key(self, campaign_id: int, key: SolverKey) -> None:
        """Record the solver key a campaign labels under (see :meth:`campaigns`)."""
        value = canonical_json({"name": key.name, "version": key.version, "fidelity": key.fidelity,
                                "config_hash": key.config_hash})
        with self._transaction() as c:
            if c.execute("UPDATE campaigns SET solver_key=? WHERE id=?", (value, campaign_id)).rowcount == 0:
                raise StoreError(f"no campaign with id {campaign_id}")

    def campaigns(self) -> list[dict[str, Any]]:
        """All campaigns as dicts (id, name, config, state, created_at, updated_at, designs, runner_pid,
        runner_host, and ``solver_key``: the :class:`StoredKey` it labels under, None before its first batch
        or in a campaign from a store older than schema version 5).

        ``state`` is as recorded (``created``, ``running``, ``paused``, ``finished``), except that a campaign
        recorded as running whose runner has exited (killed, or a store from before schema version 7, whose
        runs recorded no runner) is ``interrupted``. A runner in another process namespace (another machine
        or container) cannot be judged from here and counts as running.
        """
        here = _process_namespace()
        with self._read() as c:
            rows = c.execute(
                "SELECT campaigns.*, (SELECT COUNT(*) FROM campaign_designs d WHERE d.campaign_id = "
                "campaigns.id) AS designs FROM campaigns ORDER BY id"
            ).fetchall()
        return [{**dict(row), "config": json.loads(row["config"]),
                 "state": "interrupted" if row["state"] == "running" and _runner_alive(row, here) is False
                 else row["state"],
                 "solver_key": None if row["solver_key"] is None else StoredKey(**json.loads(row["solver_key"]))}
                for row in rows]

    def campaign_designs(self, campaign_id: int) -> list[str]:
        """Hashes of the designs of a campaign, in the order they were added."""
        with self._read() as c:
            rows = c.execute(
                "SELECT design_hash FROM campaign_designs WHERE campaign_id=? ORDER BY added_at, rowid",
                (campaign_id,),
            )
            return [row[0] for row in rows]

    def campaign(self, name: str) -> dict[str, Any]:
        """The campaign named ``name`` (as in :meth:`campaigns`); ``StoreError`` naming the known ones."""
        found = [c for c in self.campaigns() if c["name"] == name]
        if not found:
            known = ", ".join(c["name"] for c in self.campaigns()) or "none yet"
            raise StoreError(f"no campaign named {name!r} in this store; campaigns: {known}")
        return found[0]

    def add_candidates(self, campaign_id: int, batch: int, told: int, design_hashes: Sequence[str],
                       predictions: Sequence[float | None] | None = None) -> list[int]:
        """Record stored designs as the next batch of a campaign's candidates; returns their sequence numbers.

        ``told`` is the number of batches the campaign's strategy had been told when it proposed these;
        ``predictions`` its surrogate's prediction of each (None: not predicted; see :meth:`predictions`).
        """
        predictions = [None] * len(design_hashes) if predictions is None else list(predictions)
        if len(predictions) != len(design_hashes):
            raise ValueError(f"{len(predictions)} predictions for {len(design_hashes)} candidates")
        now = time.time()
        with self._transaction() as c:
            first = c.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM campaign_candidates WHERE campaign_id=?",
                              (campaign_id,)).fetchone()[0]
            seqs = list(range(first, first + len(design_hashes)))
            c.executemany(
                "INSERT INTO campaign_candidates(campaign_id, seq, batch, told, design_hash, created_at, prediction) "
                "VALUES (?,?,?,?,?,?,?)",
                [(campaign_id, seq, batch, told, h, now, None if v is None else float(v))
                 for seq, h, v in zip(seqs, design_hashes, predictions)],
            )
            c.executemany(
                "INSERT OR IGNORE INTO campaign_designs(campaign_id, design_hash, added_at) VALUES (?,?,?)",
                [(campaign_id, h, now) for h in design_hashes],
            )
        return seqs

    def candidates(self, campaign_id: int) -> list[tuple[int, int, int, str]]:
        """``(seq, batch, told, design_hash)`` of every candidate of a campaign, in proposal order."""
        with self._read() as c:
            rows = c.execute("SELECT seq, batch, told, design_hash FROM campaign_candidates WHERE campaign_id=? "
                             "ORDER BY seq", (campaign_id,)).fetchall()
        return [(int(r[0]), int(r[1]), int(r[2]), str(r[3])) for r in rows]

    def predictions(self, campaign_id: int) -> dict[int, float] | None:
        """The surrogate's prediction of each predicted candidate of a campaign, by sequence number, or None
        where the campaign's candidates do not carry them (a campaign of a store before schema version 6
        until :meth:`keep_predictions`)."""
        with self._read() as c:
            kept = c.execute("SELECT predictions_kept FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
            if kept is None:
                raise StoreError(f"no campaign with id {campaign_id}")
            if not kept[0]:
                return None
            rows = c.execute("SELECT seq, prediction FROM campaign_candidates WHERE campaign_id=? AND prediction "
                             "IS NOT NULL", (campaign_id,)).fetchall()
        return {int(r[0]): float(r[1]) for r in rows}

    def keep_predictions(self, campaign_id: int, predictions: Mapping[int, float]) -> None:
        """Record the predictions of a campaign's candidates (by sequence number; the others: not predicted)
        and that its candidates carry them."""
        with self._transaction() as c:
            c.execute("UPDATE campaign_candidates SET prediction=NULL WHERE campaign_id=?", (campaign_id,))
            c.executemany("UPDATE campaign_candidates SET prediction=? WHERE campaign_id=? AND seq=?",
                          [(float(v), campaign_id, int(seq)) for seq, v in predictions.items()])
            c.execute("UPDATE campaigns SET predictions_kept=1 WHERE id=?", (campaign_id,))

    # ------------------------------------------------------------------ models
    def register_model(
        self,
        name: str,
        kind: str,
        path: str | os.PathLike[str],
        metrics: Mapping[str, Any],
        campaign_id: int | None = None,
    ) -> int:
        """Register saved model weights; stores the SHA-256 of the file. Returns the model id."""
        weights = Path(path)
        if not weights.is_file():
            raise StoreError(f"model file {weights} does not exist")
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        with self._transaction() as c:
            cursor = c.execute(
                "INSERT INTO models(name, kind, path, weights_hash, campaign_id, metrics, created_at) "
                "VALUES (?,?,?,?,?,?,?)",
                (name, kind, str(weights.absolute()), digest, campaign_id,
                 canonical_json(dict(metrics)), time.time()),
            )
            return int(cursor.lastrowid)

    def models(self) -> list[dict[str, Any]]:
        """All registered models as dicts, newest first."""
        with self._read() as c:
            rows = c.execute("SELECT * FROM models ORDER BY id DESC").fetchall()
        return [{**dict(row), "metrics": json.loads(row["metrics"])} for row in rows]

    # ------------------------------------------------------------------ jobs
    @staticmethod
    def _job(row: sqlite3.Row) -> JobRecord:
        return JobRecord(
            id=row["id"], kind=row["kind"], params=json.loads(row["params"]), status=row["status"],
            progress=row["progress"], message=row["message"],
            cancel_requested=bool(row["cancel_requested"]), error=row["error"],
            result=_loads(row["result"]), created_at=row["created_at"],
            started_at=row["started_at"], finished_at=row["finished_at"], owner_pid=row["owner_pid"],
            owner_host=row["owner_host"],
        )

    def create_job(self, kind: str, params: Mapping[str, Any], owner_pid: int | None = None) -> str:
        """Record a queued job; returns its id (32 hex characters).

        ``owner_pid`` is the process that will start it (a job manager): if that process
        exits before the job starts, :meth:`mark_orphaned_jobs` fails the job.

        Raises
        ------
        StoreError
            Parameters that are not JSON (objects, NaN, infinity).
        """
        try:
            encoded = canonical_json(dict(params))
        except (TypeError, ValueError) as exc:
            raise StoreError(f"job parameters must be JSON (numbers, strings, lists, objects; no NaN): {exc}") from None
        job_id = uuid.uuid4().hex
        with self._transaction() as c:
            c.execute(
                "INSERT INTO jobs(id, kind, params, status, created_at, owner_pid, owner_host) "
                "VALUES (?,?,?,'queued',?,?,?)",
                (job_id, kind, encoded, time.time(), owner_pid, None if owner_pid is None else _process_namespace()),
            )
        return job_id

    def get_job(self, job_id: str) -> JobRecord:
        """The job with this id; ``KeyError`` if unknown."""
        with self._read() as c:
            row = c.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(f"no job with id {job_id}")
        return self._job(row)

    def jobs(self, limit: int = 20) -> list[JobRecord]:
        """The most recent jobs, newest first."""
        with self._read() as c:
            rows = c.execute("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
        return [self._job(row) for row in rows]

    def _update_job(self, job_id: str, sql: str, args: tuple[Any, ...], states: tuple[str, ...] | None = None) -> bool:
        """Update a job if it is in one of ``states`` (any state: None); ``KeyError`` if there is no such job."""
        where, extra = ("", ()) if states is None else (f" AND status IN ({','.join('?' * len(states))})", states)
        with self._transaction() as c:
            if c.execute(f"UPDATE jobs SET {sql} WHERE id=?{where}", (*args, job_id, *extra)).rowcount:
                return True
            if c.execute("SELECT 1 FROM jobs WHERE id=?", (job_id,)).fetchone() is None:
                raise KeyError(f"no job with id {job_id}")
            return False

    def start_job(self, job_id: str, owner_pid: int | None = None) -> bool:
        """Mark a queued job running, owned by process ``owner_pid`` (default: this process).

        Returns
        -------
        bool
            False when the job is no longer queued (e.g. cancelled or failed meanwhile): do not run it.
        """
        return self._update_job(
            job_id, "status='running', started_at=?, owner_pid=?, owner_host=?",
            (time.time(), os.getpid() if owner_pid is None else owner_pid, _process_namespace()), ("queued",),
        )

    def update_job(self, job_id: str, progress: float, message: str = "") -> None:
        """Record progress in [0, 1] and a short message (only while the job runs)."""
        progress = min(max(float(progress), 0.0), 1.0)
        self._update_job(job_id, "progress=?, message=?", (progress, message), ("running",))

    def request_cancel(self, job_id: str) -> None:
        """Ask a job to stop; it does so at its next progress check."""
        self._update_job(job_id, "cancel_requested=1", ())

    def cancel_requested(self, job_id: str) -> bool:
        """True once cancellation of the job was requested."""
        return self.get_job(job_id).cancel_requested

    def finish_job(
        self, job_id: str, status: str, *, result: Any = None, error: str | None = None, message: str = ""
    ) -> bool:
        """Record the end of a job: ``done`` (with a JSON result), ``failed`` or ``cancelled``.

        Returns
        -------
        bool
            False when the job had ended already: the first end recorded stays.
        """
        if status not in FINISHED_JOB_STATES:
            raise StoreError(f"a finished job's status must be one of {FINISHED_JOB_STATES}, got {status!r}")
        progress_sql = ", progress=1" if status == "done" else ""
        return self._update_job(
            job_id,
            f"status=?, result=?, error=?, message=?, finished_at=?{progress_sql}",
            (status, None if result is None else canonical_json(result), error, message, time.time()),
            ("queued", "running"),
        )

    def mark_orphaned_jobs(self) -> int:
        """Fail running or queued jobs whose owning process is gone (e.g. a killed app).

        Only jobs owned on this host, in this process namespace, are judged: elsewhere (another
        machine, a container sharing the store) their process ids mean nothing here.

        Returns
        -------
        int
            Number of jobs marked failed.
        """
        here = _process_namespace()
        orphaned = []
        for job in self.jobs(limit=1000):
            if job.finished or job.owner_pid is None or job.owner_host not in (None, here):
                continue
            if not _process_alive(job.owner_pid):
                orphaned.append(job.id)
        return sum(self.finish_job(job_id, "failed", error="interrupted: the process running it exited")
                   for job_id in orphaned)


def _process_namespace() -> str:
    """Host name and PID namespace of this process: where its process ids mean something."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # e.g. "pid:[4026531836]"
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()


def _runner_alive(row: sqlite3.Row, here: str) -> bool | None:
    """Whether the process recorded as running a campaign lives: False where none is recorded (a store before
    schema version 7) or it has exited, None where it runs in another process namespace (cannot be judged)."""
    if row["runner_pid"] is None:
        return False
    if row["runner_host"] != here:
        return None
    return _process_alive(row["runner_pid"])


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
