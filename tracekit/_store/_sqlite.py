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

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit import _errors
from tracekit._model import (
    CONTINUES_REMOTE,
    PREVIEW_CHARS,
    TRACE_ID_PREFIX,
    SpanData,
    Trace,
    TraceInfo,
    _usage_from_attributes,
    decode_json,
    is_summary_key,
    jsonable,
    make_span_data,
    normalize_trace_id,
    summarize_spans,
    trace_facts,
    trace_from_spans,
)
from tracekit._store._schema import ensure_schema
from tracekit._store._storable import encode_json, has_surrogate, insert_rows, storable, text

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
    def write_spans(self, spans: Sequence[ReadableSpan | SpanData]) -> None:
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


# --- rows <-> model ------------------------------------------------------------------
_SPAN_COLUMNS = (
    "trace_id, span_id, parent_id, name, start_ns, end_ns, status, status_message, attributes, events, resource"
)
_TRACE_COLUMNS = (
    "trace_id, name, start_ns, end_ns, status, tags, metadata, session_id, user_id,"
    " token_usage, span_count, request_preview, response_preview"
)


_SUMMARY_PREFIXES = (attr.TRACE_TAG_PREFIX, attr.TRACE_METADATA_PREFIX, "gen_ai.usage.")  # is_summary_key, inlined
_SUMMARY_KEYS = frozenset({attr.SESSION_ID, attr.USER_ID, attr.TOKEN_USAGE, attr.SPAN_TYPE, attr.REMOTE_PARENT})
_IN_CHUNK = 500  # trace ids per "IN (...)" query, well under SQLite's parameter limit
_INSERT_TRACE = (
    "INSERT OR REPLACE INTO traces (trace_id, name, start_ns, end_ns, status, tags, metadata,"
    " session_id, user_id, input_tokens, output_tokens, total_tokens, token_usage, span_count,"
    " request_preview, response_preview, updated_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
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

# Built once: json.dumps with keyword arguments builds a new encoder on every call.
_encode_strict = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
# Anything else (odd events, values that bypassed tracekit's gate) goes through
# encode_json: unknown types as text, NaN and lone surrogates replaced in place.
_encode_lenient = encode_json
_dumps = encode_json


def _encode_attributes(attributes: Any) -> tuple[str, dict[str, Any]]:
    """The attributes as JSON, once, and the plain dict that was encoded.

    OTel values are str/bool/int/float or tuples of them (JSON arrays already); bytes
    and mappings, which newer SDKs allow, NaN and lone surrogates take the slower path through ``storable``.
    """
    plain = dict(attributes) if attributes else {}
    try:
        encoded = _encode_strict(plain)
        if not has_surrogate(encoded):
            return encoded, plain
    except (TypeError, ValueError, RecursionError):
        pass
    # NaN, a lone surrogate, bytes, mappings: the whole map made storable, in place
    plain = storable(plain)
    return _encode_strict(plain), plain


class _Light:
    """What the trace summary reads of one span: its ``summary`` attributes and, for a
    root, the raw texts of its inputs and outputs (for the previews)."""

    __slots__ = ("end", "inputs", "message", "name", "outputs", "parent_id", "span_id", "start", "status", "summary", "trace_id")

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        parent_id: str | None,
        name: str,
        start: int,
        end: int | None,
        status: str,
        message: str | None,
        summary: dict[str, Any],
        texts: Mapping[str, Any],
    ) -> None:
        """``texts``: the span's full attributes; only a root keeps its input/output texts."""
        self.trace_id, self.span_id, self.parent_id, self.name = trace_id, span_id, parent_id, name
        self.start, self.end, self.status, self.message = start, end, status, message
        # a root, or this process's top span of a trace continued from a caller
        root = parent_id is None or summary.get(attr.REMOTE_PARENT) is True
        self.summary = summary
        self.inputs = texts.get(attr.SPAN_INPUTS) if root else None
        self.outputs = texts.get(attr.SPAN_OUTPUTS) if root else None

    def span_data(self) -> SpanData:
        return SpanData(
            trace_id=self.trace_id,
            span_id=self.span_id,
            parent_id=self.parent_id,
            name=self.name,
            span_type="",
            start_time_ns=self.start,
            end_time_ns=self.end,
            status=self.status,
            status_message=self.message,
            attributes=self.summary,
        )


def _encode_batch(
    spans: Sequence[ReadableSpan | SpanData],
) -> tuple[list[tuple[Any, ...]], dict[str, dict[str, _Light]]]:
    """Rows for the ``spans`` table, and per trace its spans' summary view."""
    rows: list[tuple[Any, ...]] = []
    traces: dict[str, dict[str, _Light]] = {}
    resources: dict[int, tuple[Any, str]] = {}  # id(resource) -> (resource, JSON), for this batch
    for span in spans:
        try:
            if isinstance(span, SpanData):
                row, light = _span_row(span), _light_of(span)
            else:
                row, light = _readable_row(span, resources)
        except Exception:
            # one span that cannot be encoded never costs the batch: it is stored
            # with what could be read of it, its attributes replaced by a marker
            _errors.report("store.encode_span")
            row, light = _fallback_row(span)
        rows.append(row)
        traces.setdefault(light.trace_id, {})[light.span_id] = light  # a repeated span: the last wins
    return rows, traces


#: attribute key sets seen -> their summary keys (spans of one kind share their keys)
_summary_keys_cache: dict[tuple[str, ...], tuple[str, ...]] = {}


def _summary_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    found = _summary_keys_cache.get(keys)
    if found is None:
        found = tuple(k for k in keys if k.startswith(_SUMMARY_PREFIXES) or k in _SUMMARY_KEYS)
        if len(_summary_keys_cache) >= 512:
            _summary_keys_cache.clear()
        _summary_keys_cache[keys] = found
    return found


def _readable_row(span: ReadableSpan, resources: dict[int, tuple[Any, str]]) -> tuple[tuple[Any, ...], _Light]:
    """The ``spans`` row of an SDK span, its attributes encoded once, and its summary view."""
    ctx = span.context
    if ctx is None:  # the SDK always sets it on recorded spans; guard the Optional type
        raise ValueError(f"span {span.name!r} has no context")
    attributes_json, plain = _encode_attributes(span.attributes)
    summary = {k: jsonable(plain[k]) for k in _summary_keys(tuple(plain))}
    if span.events:
        events_json = _dumps(
            [
                {
                    "name": event.name,
                    "timestamp_ns": event.timestamp,
                    "attributes": {k: jsonable(v) for k, v in (event.attributes or {}).items()},
                }
                for event in span.events
            ]
        )
    else:
        events_json = "[]"
    resource = span.resource
    cached = resources.get(id(resource))
    if cached is None or cached[0] is not resource:
        cached = (resource, _dumps({k: jsonable(v) for k, v in resource.attributes.items()}))
        resources[id(resource)] = cached
    parent = span.parent
    trace_id = f"{TRACE_ID_PREFIX}{ctx.trace_id:032x}"
    span_id = f"{ctx.span_id:016x}"
    parent_id = f"{parent.span_id:016x}" if parent is not None else None
    start = span.start_time or 0
    status = span.status.status_code.name
    message = span.status.description or None
    if message is not None:
        message = text(message)
    name = text(span.name)
    row = (
        trace_id,
        span_id,
        parent_id,
        name,
        start,
        span.end_time,
        status,
        message,
        attributes_json,
        events_json,
        cached[1],
        _encode_lenient(summary) if summary else "{}",
    )
    light = _Light(
        trace_id,
        span_id,
        parent_id,
        name,
        start,
        span.end_time,
        status,
        message,
        summary,
        plain,
    )
    return row, light


def _light_of(span: SpanData, attributes: dict[str, Any] | None = None) -> _Light:
    """The summary view of a span (``attributes``: its full attributes, if not its own)."""
    attributes = span.attributes if attributes is None else attributes
    return _Light(
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.name,
        span.start_time_ns,
        span.end_time_ns,
        span.status,
        span.status_message,
        {k: v for k, v in attributes.items() if is_summary_key(k)},
        attributes,
    )


_TRACE_NAME_TAG = attr.TRACE_NAME[len(attr.TRACE_TAG_PREFIX) :]


def _trace_row_of(spans: Sequence[_Light], now_ns: int) -> tuple[Any, ...]:
    """The ``traces`` row summarizing ``spans`` (all the stored spans of one trace).

    The rules are ``summarize_spans``'s (a lone span is summarized directly, as it
    would be there); the previews are cut from the root's raw input/output texts,
    never decoded and re-encoded (a JSON string attribute previews as its text).
    """
    root = next((s for s in spans if s.parent_id is None), None)
    if root is None:  # a fragment continuing a caller's trace ends with its local top span
        root = next((s for s in spans if s.summary.get(attr.REMOTE_PARENT) is True), None)
    previews = (_raw_preview(root.inputs), _raw_preview(root.outputs)) if root is not None else (None, None)
    if len(spans) == 1:
        [one] = spans
        tags, metadata, session_id, user_id = trace_facts([one.summary])
        if root is not None and root.parent_id is not None:
            metadata = {**metadata, CONTINUES_REMOTE: root.parent_id}
        usage = _usage_from_attributes(one.summary)
        status = ("ERROR" if one.status == "ERROR" else "OK") if root is not None else "IN_PROGRESS"
        return _row(
            one.trace_id,
            tags.get(_TRACE_NAME_TAG) or one.name,
            one.start,
            one.end,
            status,
            tags,
            metadata,
            session_id,
            user_id,
            usage,
            1,
            *previews,
            now_ns,
        )
    info = summarize_spans([s.span_data() for s in spans])
    return _row(
        info.trace_id,
        info.name,
        info.start_time_ns,
        info.end_time_ns,
        info.status,
        info.tags,
        info.metadata,
        info.session_id,
        info.user_id,
        info.token_usage,
        info.span_count,
        *previews,
        now_ns,
    )


def _row(
    trace_id: str,
    name: str,
    start: int,
    end: int | None,
    status: str,
    tags: dict[str, str],
    metadata: dict[str, str],
    session_id: str | None,
    user_id: str | None,
    usage: dict[str, int] | None,
    span_count: int,
    request_preview: str | None,
    response_preview: str | None,
    now_ns: int,
) -> tuple[Any, ...]:
    counts = usage or {}
    return (
        trace_id,
        name,
        start,
        end,
        status,
        _dumps(tags) if tags else "{}",
        _dumps(metadata) if metadata else "{}",
        session_id,
        user_id,
        counts.get(attr.USAGE_INPUT),
        counts.get(attr.USAGE_OUTPUT),
        counts.get(attr.USAGE_TOTAL),
        _dumps(usage) if usage else None,
        span_count,
        request_preview,
        response_preview,
        now_ns,
    )


def _raw_preview(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw
        if raw.startswith('"'):
            decoded = decode_json(raw)
            if isinstance(decoded, str):
                text = decoded
    else:
        text = _encode_lenient(raw)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def _fallback_row(span: Any) -> tuple[tuple[Any, ...], _Light]:
    """The row of a span whose encoding failed: its ids, name, times and status, with
    ``tracekit.unstorable`` in place of its attributes (the batch's other spans are
    stored as they are)."""
    if isinstance(span, SpanData):
        trace_id, span_id, parent_id = span.trace_id, span.span_id, span.parent_id
        name, start, end, status = span.name, span.start_time_ns, span.end_time_ns, span.status
    else:
        ctx = span.context
        trace_id, span_id = f"{TRACE_ID_PREFIX}{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
        parent_id = f"{span.parent.span_id:016x}" if span.parent is not None else None
        name, start, end = span.name, span.start_time or 0, span.end_time
        status = span.status.status_code.name
    attributes = {attr.UNSTORABLE: "<span attributes could not be encoded>"}
    row = (trace_id, span_id, parent_id, text(name), start, end, str(status), None, _dumps(attributes), "[]", "{}", "{}")
    light = _Light(trace_id, span_id, parent_id, text(name), start, end, str(status), None, {}, {})
    return row, light


def _span_row(span: SpanData) -> tuple[Any, ...]:
    summary = {k: v for k, v in span.attributes.items() if is_summary_key(k)}
    return (
        span.trace_id,
        span.span_id,
        span.parent_id,
        text(span.name),
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
        " CASE WHEN parent_id IS NULL OR instr(summary, ?) > 0 THEN attributes ELSE summary END"
        " FROM spans WHERE trace_id = ?",
        (f'"{attr.REMOTE_PARENT}"', trace_id),
    ).fetchall()
    spans = []
    for r in rows:
        attributes = json.loads(r[8])  # the root's full attributes, else the summary column
        root = r[2] is None or attributes.get(attr.REMOTE_PARENT) is True
        spans.append(
            _Light(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                {k: v for k, v in attributes.items() if is_summary_key(k)} if root else attributes,
                attributes,
            )
        )
    conn.execute(_INSERT_TRACE, _trace_row_of(spans, now_ns))


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
