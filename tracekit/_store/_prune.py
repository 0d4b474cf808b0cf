"""Deleting old traces from the local store, safely while apps keep writing to it.

Safety with a concurrent writer: the cut is taken once, at the start (``cut_ns``), and
a trace is deleted only if its summary row was last written before the cut
(``updated_ns <= cut_ns``). A span written after the cut either refreshed its trace's
row (so the trace is kept) or arrives after the trace was deleted (it starts the trace
again). Deletion runs in small ``BEGIN IMMEDIATE`` transactions through the store's
writer connection, so an app's writes wait at most one small batch (the busy timeout
is 30 s) and never meet "database is locked".

SQLite does not shrink the file when rows are deleted: the freed pages are reused by
later writes. The size cap therefore compares the *used* bytes (pages minus free
pages) with the limit.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracekit._store._sqlite import SQLiteStore

__all__ = ["PRUNE_BATCH", "SizeCap", "prune", "used_bytes"]

PRUNE_BATCH = 200  # traces per delete transaction: a writer waits at most for one
CAP_CHECK_INTERVAL_S = 10.0  # how often the size cap measures the store
CAP_TARGET = 0.9  # prune down to 90 % of the cap, so one write does not trigger it again


def prune(
    store: SQLiteStore,
    *,
    older_than_ns: int | None = None,
    keep: int | None = None,
    cut_ns: int | None = None,
) -> int:
    """Delete traces that started before ``older_than_ns`` and/or all but the newest
    ``keep``; return how many were deleted. Traces written after ``cut_ns`` (default:
    now) are never deleted."""
    if older_than_ns is None and keep is None:
        raise ValueError("prune needs older_than_ns or keep")
    if not store.path.exists():
        return 0
    cut = time.time_ns() if cut_ns is None else cut_ns
    deleted = 0
    while True:
        with store._write() as conn:
            ids = _victims(conn, older_than_ns, keep, cut)
            if ids:
                _delete(conn, ids)
        deleted += len(ids)
        if len(ids) < PRUNE_BATCH:
            return deleted


def _victims(conn: sqlite3.Connection, older_than_ns: int | None, keep: int | None, cut: int) -> list[str]:
    where = ["updated_ns <= ?"]
    params: list[object] = [cut]
    if older_than_ns is not None:
        where.append("start_ns < ?")
        params.append(older_than_ns)
    if keep is not None:
        # the newest `keep` traces as of the cut survive
        where.append(
            "trace_id NOT IN (SELECT trace_id FROM traces WHERE updated_ns <= ? ORDER BY start_ns DESC, trace_id LIMIT ?)"
        )
        params += [cut, keep]
    sql = f"SELECT trace_id FROM traces WHERE {' AND '.join(where)} ORDER BY start_ns, trace_id LIMIT ?"
    return [str(r[0]) for r in conn.execute(sql, [*params, PRUNE_BATCH])]


def _delete(conn: sqlite3.Connection, ids: list[str]) -> None:
    marks = ",".join("?" * len(ids))
    for table in ("spans", "uploads", "traces"):
        conn.execute(f"DELETE FROM {table} WHERE trace_id IN ({marks})", ids)


def used_bytes(store: SQLiteStore) -> int:
    """Bytes the store's live pages take (the file may be larger: freed pages are reused)."""
    with store._connect(create=False) as conn:
        if conn is None:
            return 0
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return (pages - free) * size


def prune_to_size(store: SQLiteStore, max_bytes: int) -> int:
    """Delete the oldest traces until the live pages fit in ``max_bytes * CAP_TARGET``."""
    deleted = 0
    target = int(max_bytes * CAP_TARGET)
    for _ in range(100):  # bounded: each round deletes at least one trace or stops
        used = used_bytes(store)
        if used <= target:
            break
        count = store.count()
        if count <= 1:
            break
        # drop the share of traces the excess represents (at least one), oldest first
        share = (used - target) / used
        keep = max(1, min(count - 1, int(count * (1 - share))))
        removed = prune(store, keep=keep)
        deleted += removed
        if removed == 0:
            break
    return deleted


class SizeCap:
    """Keeps a store under ``max_bytes``. The store exporter calls ``after_write()`` after
    each batch; at most every ``CAP_CHECK_INTERVAL_S`` it compares the file size with the
    cap (a ``stat``), and when over, prunes the oldest traces on a thread of its own, so
    neither the export thread nor an app thread writing under back-pressure waits."""

    def __init__(self, store: SQLiteStore, max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self._next = 0.0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.deleted = 0  # traces pruned so far (for tests and diagnostics)

    def after_write(self) -> None:
        """Start a prune in the background if one is due and the store is over the cap."""
        now = time.monotonic()
        with self._lock:
            if now < self._next or (self._thread is not None and self._thread.is_alive()):
                return
            self._next = now + CAP_CHECK_INTERVAL_S
            # cheap first test: the live data cannot be larger than the files
            if _file_bytes(self.store) <= self.max_bytes * CAP_TARGET:
                return
            self._thread = threading.Thread(target=self._prune, name="tracekit-store-cap", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a prune in progress (tests; shutdown need not wait: each step commits)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _prune(self) -> None:
        import logging

        try:
            self.deleted += prune_to_size(self.store, self.max_bytes)
        except Exception as exc:  # housekeeping: the spans are written; try again later
            logging.getLogger("tracekit").warning(
                "tracekit: could not prune %s to its size cap: %s", self.store.path, exc
            )


def _file_bytes(store: SQLiteStore) -> int:
    """The store file plus its write-ahead log (recent writes wait there until a checkpoint)."""
    total = 0
    for path in (store.path, store.path.with_name(store.path.name + "-wal")):
        try:
            total += path.stat().st_size
        except OSError:
            pass
    return total
