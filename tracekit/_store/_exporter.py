"""An OpenTelemetry span exporter that writes finished spans to the local store."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracekit import _errors
from tracekit._store._failure import cause
from tracekit._store._prune import SizeCap
from tracekit._store._sqlite import SQLiteStore, default_store_path
from tracekit._store._status import note_write_error
from tracekit._store._writer_client import WriterClient

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

logger = logging.getLogger("tracekit")


class SQLiteSpanExporter(SpanExporter):
    """Export span batches to a :class:`SQLiteStore`, one transaction per batch.

    The store keeps one writer connection open between batches (reopened after a
    fork or an error). ``export`` may be called from several threads: the pipeline's
    worker, and under overload the app's thread (back-pressure); the store serializes
    them.

    Follows the ``SpanExporter`` contract: ``export`` never raises; a failed batch
    returns ``FAILURE`` and is logged on the ``tracekit`` logger as one line naming the
    file and the cause (disk full, not a database, ...), once per cause so that a
    broken disk does not flood the app's logs; the traceback with ``TRACEKIT_DEBUG``.

    >>> import tempfile, pathlib
    >>> exporter = SQLiteSpanExporter(pathlib.Path(tempfile.mkdtemp()) / "traces.db")
    >>> exporter.export([]).name
    'SUCCESS'
    """

    def __init__(
        self,
        store: SQLiteStore | str | os.PathLike[str] | None = None,
        *,
        max_mb: float | None = None,
        writer: str | None = None,
    ) -> None:
        """``max_mb``: the store's size cap (``store_max_mb``); the oldest traces are
        pruned on the export thread once the store grows past it. ``writer``: who
        encodes and writes the spans, ``"process"`` (a store writer process) or
        ``"thread"`` (the export thread); default: the ``store_writer`` setting."""
        if store is None:
            store = default_store_path()
        self.store = store if isinstance(store, SQLiteStore) else SQLiteStore(store)
        if writer is None:
            from tracekit import _config

            writer = _config.get().store_writer
        #: the store writer process's client (``writer="process"`` on POSIX), else None
        self.writer = WriterClient(self.store.path) if writer == "process" and os.name == "posix" else None
        self._cap = None if max_mb is None else SizeCap(self.store, int(max_mb * 1024 * 1024))
        self._lock = threading.Lock()
        self._shutdown = False
        self._failures = 0
        self._causes: set[str] = set()
        #: the last failure's cause in words
        self.last_cause: str | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write ``spans``; ``SUCCESS`` once they are committed, else ``FAILURE``."""
        if self._shutdown:
            return SpanExportResult.FAILURE
        try:
            if self.writer is None or not self.writer.write(spans):
                self.store.write_spans(spans)  # in process: the writer is off, starting, or died
        except Exception as exc:  # the exporter contract: report, never raise
            self._report(exc, len(spans))
            note_write_error(self.store.path, f"could not write {len(spans)} span(s): {self.last_cause or exc}")
            return SpanExportResult.FAILURE
        if self._cap is not None:
            self._cap.after_write()  # prunes on its own thread when the store is over its cap
        return SpanExportResult.SUCCESS

    def _report(self, exc: Exception, count: int) -> None:
        """One line naming the file and the cause, once per cause (later ones at debug
        level, so a broken disk does not flood the app's log); the traceback only with
        ``TRACEKIT_DEBUG``. ``tracekit.flush()`` counts the spans."""
        reason = cause(exc, self.store.path)
        with self._lock:
            self._failures += 1
            first = reason not in self._causes
            self._causes.add(reason)
            self.last_cause = reason
        level = logging.ERROR if first else logging.DEBUG
        logger.log(
            level,
            "tracekit: could not write %d span(s) to the local store %s: %s",
            count,
            self.store.path,
            reason,
            exc_info=_errors.debug(),
        )

    def describe_failure(self, why: str) -> str:
        """Why spans the pipeline gives up on were not written (for its one message)."""
        if self.store.waiting_since is not None:
            cause_text = "the store is locked by another process"
        elif self.writer is not None and self.writer.waiting_since is not None:
            cause_text = (
                "the store writer process had not confirmed them: is the store locked by another process?"
                " It goes on writing them after the app exits"
            )
        else:
            cause_text = self.last_cause or why
        return f"not written to the local store {self.store.path} before tracekit stopped ({cause_text})"

    def shutdown(self) -> None:
        """Refuse further batches and close the store's writer connection (without
        waiting for a write stuck on another process's lock)."""
        self._shutdown = True
        if self.writer is not None:
            try:
                self.writer.close(timeout=0.2)  # the writer commits what it received, then exits
            except Exception:
                _errors.report("store.writer_close")
        try:
            self.store.close(timeout=0.2)
        except Exception:  # closing a connection that failed: nothing left to release
            pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here: every ``export`` commits before it returns."""
        return True
