"""The campaign store: one SQLite file per project holding designs, labels, campaigns, models, jobs.

- :mod:`.database` — :class:`Store`, the only code that talks SQL; one short transaction per write.
- :mod:`.records` — what it hands out (:class:`SolverKey`, :class:`DesignRecord`, :class:`LabelRecord`,
  :class:`JobRecord`).
- :mod:`.schema` — the schema version and the migration steps that bring an older store up to date.

Nothing here knows a solver or a learner: evaluators build the keys, the store keeps them.
"""

from engine.store.database import DEFAULT_STORE_FILENAME, Store, StoreError, resolve_store_path
from engine.store.records import (
    FINISHED_JOB_STATES,
    JOB_STATES,
    DesignRecord,
    JobRecord,
    LabelRecord,
    SolverKey,
    StoredKey,
    StoreStatus,
    same_labels,
)

__all__ = [
    "DEFAULT_STORE_FILENAME",
    "DesignRecord",
    "FINISHED_JOB_STATES",
    "JOB_STATES",
    "JobRecord",
    "LabelRecord",
    "SolverKey",
    "StoredKey",
    "Store",
    "StoreError",
    "StoreStatus",
    "same_labels",
    "resolve_store_path",
]
