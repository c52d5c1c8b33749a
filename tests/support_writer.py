"""Script: one of several concurrent writers of a store (used by the store tests).

Usage: python support_writer.py STORE FIRST COUNT START_AT
Adds designs FIRST..FIRST+COUNT-1, labels each, records a job per 10 designs, then prints
how many labels this writer inserted. Waits until the UNIX time START_AT so writers overlap.
"""

from __future__ import annotations

import sys
import time

from engine.store import SolverKey, Store

KEY = SolverKey("writer-test", "1", "exact", {"scale": 2})


def main() -> None:
    path, first, count, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    store = Store(path, create=False)
    time.sleep(max(0.0, start_at - time.time()))
    inserted = 0
    for i in range(first, first + count):
        design_hash = store.add_design("integer", [i])
        inserted += store.put_label(design_hash, KEY, {"double": 2 * i})
        if i % 10 == 0:
            job = store.create_job("writer", {"i": i})
            store.update_job(job, 0.5, "half")
            store.finish_job(job, "done", result={"i": i})
    print(inserted)


if __name__ == "__main__":
    main()
