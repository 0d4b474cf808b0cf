"""The local trace store: one SQLite file that several processes may write at once.

Concurrency model: WAL journaling so readers never block the writer, a generous busy
timeout, and every write in one ``BEGIN IMMEDIATE`` transaction. Taking the write lock
up front matters: a deferred transaction that reads first and then writes can fail at
once with "database is locked" instead of waiting for the busy timeout.

Writes go through one connection per store object, kept open (opening a connection
and setting it up costs more than writing a batch of spans), used by one thread at a
time under a lock, never carried across a ``fork`` (a child opens its own) and
replaced after any error. Reads open a fresh connection per call.

The store is written from the export thread; under overload (see ``_pipeline``) the
app's thread may write a batch itself.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracekit._model import SpanData, Trace, TraceInfo, normalize_trace_id, trace_from_spans
from tracekit._store._rows import (
    _IN_CHUNK,
    _INSERT_TRACE,
    _SPAN_COLUMNS,
    _TRACE_COLUMNS,
    PlainSpan,
    _encode_batch,
    _refresh_trace,
    _span_data,
    _trace_info,
    _trace_row_of,
)
from tracekit._store._schema import ensure_schema
from tracekit._store._storable import insert_rows

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

BUSY_TIMEOUT_S = 30.0  # long enough for a burst of writers; short enough to surface a stuck lock
SQLITE_URI_PREFIX = "sqlite:///"


def default_store_path() -> Path:
    """The default store file: ``$TRACEKIT_HOME/traces.db`` (``~/.tracekit/traces.db``).

    >>> default_store_path().name
    'traces.db'
    """
    home = os.environ.get("TRACEKIT_HOME") or "~/.tracekit"
    return Path(home).expanduser() / "traces.db"


def store_path_from_uri(uri: str) -> Path:
    """The file of a ``sqlite:///PATH`` URI, or ``uri`` itself when it is a plain path.

    As in SQLAlchemy and MLflow, ``sqlite:///traces.db`` is relative to the working
    directory and ``sqlite:////tmp/traces.db`` is absolute.

    >>> str(store_path_from_uri("sqlite:////tmp/t.db"))
    '/tmp/t.db'
    """
    if uri.startswith(SQLITE_URI_PREFIX):
        uri = uri[len(SQLITE_URI_PREFIX) :]
    elif uri.startswith("sqlite:"):
        raise ValueError(f"not a sqlite URI: {uri!r} (expected sqlite:///PATH)")
    if not uri:
        raise ValueError("empty store path")
    return Path(uri).expanduser()


class SQLiteStore:
    """Finished spans and trace summaries in one SQLite file.

    The file and its directory are created on the first write; reading a store that
    does not exist yet finds nothing. Safe to use from several threads and processes.

    >>> import tempfile, pathlib
    >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "traces.db")
    >>> store.count()
    0
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._ready_pid: int | None = None  # pid that last checked the schema
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None  # kept open between writes
        self._writer_pid: int | None = None  # the process that opened it
        #: time.monotonic() since which a write waits for another process's lock, if it does
        self.waiting_since: float | None = None
        _STORES.add(self)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # --- connections ---------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        """A new autocommit connection, the schema checked once per process."""
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see the module docstring).
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            if self._ready_pid != os.getpid():
                _set_wal(conn)
                ensure_schema(conn, str(self.path))
                self._ready_pid = os.getpid()
            # WAL + NORMAL stays consistent on a crash; only the last commits may be lost.
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        """A fresh connection for reading, or ``None`` if the file is absent and not ``create``."""
        if not self.path.exists():
            if not create:
                yield None
                return
            _create_private_file(self.path)
        conn = self._open()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """The writer connection inside one ``BEGIN IMMEDIATE`` transaction, under the lock.

        The connection stays open for the next write; one opened by the parent of a
        forked process is never used (nor closed: that could disturb the parent's
        locks), and any error discards it so that the next write starts afresh.
        """
        with self._write_lock:
            conn = self._writer
            if conn is not None and self._writer_pid != os.getpid():
                _ABANDONED.append(conn)  # the parent's, across a fork: never closed here
                conn = self._writer = None
            elif conn is not None and not self.path.exists():
                # the file was deleted under us: writing on would go to the unlinked file
                conn.close()
                conn = self._writer = None
                self._ready_pid = None  # the new file needs its schema
            if conn is None:
                _create_private_file(self.path)
                conn = self._open()
                self._writer, self._writer_pid = conn, os.getpid()
            try:
                self.waiting_since = time.monotonic()
                try:
                    conn.execute("BEGIN IMMEDIATE")
                finally:
                    self.waiting_since = None
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        try:
                            conn.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass  # (disk full...) the first error is the one to report
                    raise
                conn.execute("COMMIT")
            except BaseException:
                self._writer = None
                try:
                    conn.close()
                except Exception:
                    pass
                raise

    def prepare(self) -> None:
        """Create the file and open the writer connection now, its schema checked (the
        store writer process does this before it says it is ready)."""
        with self._write_lock:
            if self._writer is None or self._writer_pid != os.getpid():
                _create_private_file(self.path)
                self._writer, self._writer_pid = self._open(), os.getpid()

    def close(self, timeout: float = -1) -> None:
        """Close the writer connection (the next write opens a new one).

        With a ``timeout`` (seconds), give up when a write holds the connection longer
        (a write waiting for another process's lock at exit): it is left as it is.
        """
        if not self._write_lock.acquire(timeout=timeout):
            return
        try:
            conn, self._writer = self._writer, None
            if conn is not None:
                if self._writer_pid == os.getpid():
                    conn.close()
                else:
                    _ABANDONED.append(conn)
        finally:
            self._write_lock.release()

    # --- writing -------------------------------------------------------------------
    def write_spans(self, spans: Sequence[ReadableSpan | SpanData | PlainSpan]) -> None:
        """Insert or replace ``spans`` (by trace and span id) in one transaction.

        Idempotent: writing the same span again changes nothing. The spans of a trace
        may arrive in any order and over many calls: a trace first seen in this batch
        is summarized from the batch's spans in memory; a trace that already has a
        summary row is re-summarized from all its stored spans (their small
        ``summary`` column, and the root's attributes for the previews).
        """
        if not spans:
            return
        rows, traces = _encode_batch(spans)  # encode before taking the lock
        trace_ids = list(traces)
        with self._write() as conn:
            existing: set[str] = set()
            for i in range(0, len(trace_ids), _IN_CHUNK):
                chunk = trace_ids[i : i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                existing.update(
                    r[0] for r in conn.execute(f"SELECT trace_id FROM traces WHERE trace_id IN ({marks})", chunk)
                )
            insert_rows(
                conn,
                "INSERT OR REPLACE INTO spans (trace_id, span_id, parent_id, name, start_ns,"
                " end_ns, status, status_message, attributes, events, resource, summary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            now = time.time_ns()
            insert_rows(
                conn,
                _INSERT_TRACE.replace("INSERT OR REPLACE", "INSERT", 1),  # new: nothing to replace
                [
                    _trace_row_of(list(by_span.values()), now)
                    for trace_id, by_span in traces.items()
                    if trace_id not in existing
                ],
            )
            for trace_id in trace_ids:
                if trace_id in existing:
                    _refresh_trace(conn, trace_id, now)

    def mark_uploaded(self, trace_ids: Iterable[str], destination: str, *, as_of_ns: int | None = None) -> None:
        """Record that ``trace_ids`` were uploaded to ``destination``.

        ``as_of_ns`` is when the uploader read the traces (default: now); a trace
        written after that counts as not uploaded again, so spans that arrive late
        are uploaded too. Pass the time taken *before* reading to be exact.
        """
        stamp = time.time_ns() if as_of_ns is None else as_of_ns
        rows = [(normalize_trace_id(t), destination, stamp) for t in trace_ids]
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO uploads (trace_id, destination, uploaded_ns) VALUES (?, ?, ?)",
                rows,
            )

    # --- reading -------------------------------------------------------------------
    def list_traces(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        not_uploaded_to: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[TraceInfo]:
        """Trace summaries, newest first.

        ``name`` matches as a case-insensitive substring, or as a glob when it holds
        ``*``, ``?`` or ``[``; ``since_ns``/``until_ns`` bound the start time
        (inclusive/exclusive); ``not_uploaded_to`` keeps traces never uploaded to that
        destination or changed since; ``limit=None`` lists all.
        """
        where: list[str] = []
        params: list[Any] = []
        if name:
            if any(c in name for c in "*?["):
                where.append("lower(name) GLOB ?")
                params.append(name.lower())
            else:
                where.append("instr(lower(name), ?) > 0")
                params.append(name.lower())
        if status:
            where.append("status = ?")
            params.append(status.upper())
        if since_ns is not None:
            where.append("start_ns >= ?")
            params.append(since_ns)
        if until_ns is not None:
            where.append("start_ns < ?")
            params.append(until_ns)
        if not_uploaded_to is not None:
            where.append(
                "NOT EXISTS (SELECT 1 FROM uploads u WHERE u.trace_id = traces.trace_id"
                " AND u.destination = ? AND u.uploaded_ns >= traces.updated_ns)"
            )
            params.append(not_uploaded_to)
        sql = f"SELECT {_TRACE_COLUMNS} FROM traces"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_ns DESC, trace_id LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        with self._connect(create=False) as conn:
            if conn is None:
                return []
            return [_trace_info(row) for row in conn.execute(sql, params)]

    def get_trace(self, trace_id: str) -> Trace | None:
        """The trace with all its spans, or ``None``; ``trace_id`` in either id form.

        Raises ``ValueError`` for a malformed id.
        """
        key = normalize_trace_id(trace_id)
        with self._connect(create=False) as conn:
            if conn is None:
                return None
            rows = conn.execute(f"SELECT {_SPAN_COLUMNS} FROM spans WHERE trace_id = ?", (key,)).fetchall()
        if not rows:
            return None
        return trace_from_spans(_span_data(row) for row in rows)

    def find_trace_ids(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Ids of traces starting with ``prefix`` (with or without ``tr-``), newest first.

        Lets the CLI accept a short, unambiguous id prefix as git does.
        """
        text = prefix.strip().lower()
        text = text if text.startswith("tr-") else "tr-" + text
        with self._connect(create=False) as conn:
            if conn is None:
                return []
            rows = conn.execute(
                "SELECT trace_id FROM traces WHERE substr(trace_id, 1, ?) = ? ORDER BY start_ns DESC LIMIT ?",
                (len(text), text, limit),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def count(self) -> int:
        """How many traces the store holds."""
        with self._connect(create=False) as conn:
            if conn is None:
                return 0
            return int(conn.execute("SELECT count(*) FROM traces").fetchone()[0])


#: connections opened by a parent process, seen in a forked child: never used nor
#: closed there (closing could checkpoint or unlock under the parent), kept alive so
#: that garbage collection does not close them either
_ABANDONED: list[sqlite3.Connection] = []
_STORES: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # another thread may have held a store's lock, or been mid-write, at the fork
    for store in list(_STORES):
        store._write_lock = threading.Lock()
        if store._writer is not None:
            _ABANDONED.append(store._writer)
            store._writer = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

# --- files ---------------------------------------------------------------------------
def _create_private_file(path: Path) -> None:
    """Create the store file readable by its owner only: traces hold prompts and replies."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:  # another process created it first
        return
    os.close(fd)


def _set_wal(conn: sqlite3.Connection) -> None:
    # The journal mode is stored in the file: switch only once, since switching needs
    # an exclusive lock that other processes' open readers would make us wait for.
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


__all__ = ["SQLiteStore", "default_store_path", "store_path_from_uri"]
