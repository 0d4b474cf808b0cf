"""The local trace store: one SQLite file that several processes may write at once.

Concurrency model: a connection per call (never shared between threads or across a
``fork``), WAL journaling so readers never block the writer, a generous busy timeout,
and every write in one ``BEGIN IMMEDIATE`` transaction. Taking the write lock up front
matters: a deferred transaction that reads first and then writes can fail at once
with "database is locked" instead of waiting for the busy timeout.

The store is meant to be written from the export thread, never the app's thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit._model import (
    SpanData,
    Trace,
    TraceInfo,
    is_summary_key,
    make_span_data,
    normalize_trace_id,
    span_data_from_readable,
    summarize_spans,
    trace_from_spans,
)
from tracekit._store._schema import ensure_schema

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

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # --- connections ---------------------------------------------------------------
    @contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        """A fresh autocommit connection, or ``None`` if the file is absent and not ``create``."""
        if not self.path.exists():
            if not create:
                yield None
                return
            _create_private_file(self.path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see the module docstring).
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            if self._ready_pid != os.getpid():
                _set_wal(conn)
                ensure_schema(conn, str(self.path))
                self._ready_pid = os.getpid()
            # WAL + NORMAL stays consistent on a crash; only the last commits may be lost.
            conn.execute("PRAGMA synchronous = NORMAL")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect(create=True) as conn:
            assert conn is not None  # create=True always opens
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # --- writing -------------------------------------------------------------------
    def write_spans(self, spans: Sequence[ReadableSpan | SpanData]) -> None:
        """Insert or replace ``spans`` (by trace and span id) in one transaction.

        Idempotent: writing the same span again changes nothing. The summary row of
        every trace touched is recomputed from all its stored spans, so the spans of a
        trace may arrive in any order and over many calls.
        """
        data = [s if isinstance(s, SpanData) else span_data_from_readable(s) for s in spans]
        if not data:
            return
        rows = [_span_row(s) for s in data]  # encode before taking the lock
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO spans (trace_id, span_id, parent_id, name, start_ns,"
                " end_ns, status, status_message, attributes, events, resource, summary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            now = time.time_ns()
            for trace_id in dict.fromkeys(s.trace_id for s in data):
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


# --- rows <-> model ------------------------------------------------------------------
_SPAN_COLUMNS = (
    "trace_id, span_id, parent_id, name, start_ns, end_ns, status, status_message, attributes, events, resource"
)
_TRACE_COLUMNS = (
    "trace_id, name, start_ns, end_ns, status, tags, metadata, session_id, user_id,"
    " token_usage, span_count, request_preview, response_preview"
)


def _dumps(value: Any) -> str:
    # default=str: attribute values are already JSON-able; this only guards odd events.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _span_row(span: SpanData) -> tuple[Any, ...]:
    summary = {k: v for k, v in span.attributes.items() if is_summary_key(k)}
    return (
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.name,
        span.start_time_ns,
        span.end_time_ns,
        span.status,
        span.status_message,
        _dumps(span.attributes),
        _dumps(span.events),
        _dumps(span.resource),
        _dumps(summary),
    )


def _span_data(row: Sequence[Any]) -> SpanData:
    return make_span_data(
        trace_id=row[0],
        span_id=row[1],
        parent_id=row[2],
        name=row[3],
        start_time_ns=row[4],
        end_time_ns=row[5],
        status=row[6],
        status_message=row[7],
        attributes=json.loads(row[8]),
        events=json.loads(row[9]),
        resource=json.loads(row[10]),
    )


def _refresh_trace(conn: sqlite3.Connection, trace_id: str, now_ns: int) -> None:
    """Recompute one trace's summary row from its stored spans.

    Only the root span's full attributes are read (for the request/response
    previews); the other spans contribute their small ``summary`` column.
    """
    rows = conn.execute(
        "SELECT trace_id, span_id, parent_id, name, start_ns, end_ns, status, status_message,"
        " CASE WHEN parent_id IS NULL THEN attributes ELSE summary END, '[]', '{}'"
        " FROM spans WHERE trace_id = ?",
        (trace_id,),
    ).fetchall()
    info = summarize_spans([_span_data(r) for r in rows])
    usage = info.token_usage or {}
    conn.execute(
        "INSERT OR REPLACE INTO traces (trace_id, name, start_ns, end_ns, status, tags, metadata,"
        " session_id, user_id, input_tokens, output_tokens, total_tokens, token_usage, span_count,"
        " request_preview, response_preview, updated_ns)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            info.trace_id,
            info.name,
            info.start_time_ns,
            info.end_time_ns,
            info.status,
            _dumps(info.tags),
            _dumps(info.metadata),
            info.session_id,
            info.user_id,
            usage.get(attr.USAGE_INPUT),
            usage.get(attr.USAGE_OUTPUT),
            usage.get(attr.USAGE_TOTAL),
            _dumps(info.token_usage) if info.token_usage else None,
            info.span_count,
            info.request_preview,
            info.response_preview,
            now_ns,
        ),
    )


def _trace_info(row: Sequence[Any]) -> TraceInfo:
    return TraceInfo(
        trace_id=row[0],
        name=row[1],
        start_time_ns=row[2],
        end_time_ns=row[3],
        status=row[4],
        tags=json.loads(row[5]),
        metadata=json.loads(row[6]),
        session_id=row[7],
        user_id=row[8],
        token_usage=json.loads(row[9]) if row[9] else None,
        span_count=row[10],
        request_preview=row[11],
        response_preview=row[12],
    )


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
