"""The export pipeline: a bounded in-memory queue drained by one background thread.

The app's thread only appends a finished span to a deque (``on_end``); batching,
encoding and I/O happen on the worker thread. Every span is accounted for: it is
delivered, still pending, spilled to disk by an exporter that keeps an outbox, failed
(the destination refused it), or dropped because the queue was full -- and every drop
is counted and logged.

tracekit implements this processor itself rather than using the SDK's
``BatchSpanProcessor`` because that one drops silently when its queue is full and
reports no counts, which would break promise 5 ("nothing is lost silently").
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracekit import _errors

if TYPE_CHECKING:
    from tracekit._config import Settings


@dataclasses.dataclass(frozen=True)
class FlushResult:
    """What became of the spans finished so far in this process (counts of spans).

    ``delivered``: accepted by the destination. ``pending``: still queued or being
    sent when the flush returned. ``spilled``: written to the on-disk outbox, to be
    sent later. ``failed``: refused by the destination or not deliverable.
    ``dropped``: discarded because the in-memory queue was full and nothing could
    keep them.
    """

    delivered: int = 0
    pending: int = 0
    dropped: int = 0
    failed: int = 0
    spilled: int = 0

    @property
    def ok(self) -> bool:
        """True when everything finished so far was delivered or safely spilled."""
        return not (self.pending or self.dropped or self.failed)


class Pipeline(SpanProcessor):
    """Span processor that batches finished spans to the exporters on a worker thread."""

    def __init__(self, settings: Settings, exporters: Sequence[SpanExporter] | None = None) -> None:
        if exporters is None:
            from tracekit._exporters import build

            exporters = build(settings)
        self._exporters = list(exporters)
        self._max_queue = settings.max_queue_size
        self._batch_size = settings.export_batch_size
        self._interval = settings.export_interval
        self._queue: deque[ReadableSpan] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._inflight = 0
        self._flush_requested = 0
        self._closed = False
        self._delivered = 0
        self._dropped = 0
        self._failed = 0
        self._drop_logged = False

    @property
    def exporters(self) -> list[SpanExporter]:
        return list(self._exporters)

    # --- the app's side (hot path) -------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        cond = self._cond
        with cond:
            if self._closed:
                closed = True
            else:
                closed = False
                if len(self._queue) >= self._max_queue:
                    self._overflow(span)
                    return
                self._queue.append(span)
                if self._thread is None:
                    self._start_worker()
                if len(self._queue) >= self._batch_size:
                    cond.notify()
        if closed:
            # a span that outlived a reconfiguration: send it through the current pipeline
            from tracekit import _tracer

            current = _tracer.current_pipeline()
            if current is not None and current is not self:
                current.on_end(span)
            else:
                self._export([span])

    def _overflow(self, span: ReadableSpan) -> None:
        """Queue full (called with the lock held): let an exporter keep it, or count a drop."""
        for exporter in self._exporters:
            spill = getattr(exporter, "spill", None)
            if spill is not None:
                try:
                    if spill([span]):
                        return
                except Exception:
                    pass
        self._dropped += 1
        if not self._drop_logged:
            self._drop_logged = True
            _errors.logger.error(
                "tracekit: export queue full (%d spans); dropping spans. The destination is too slow "
                "or down; raise max_queue_size or check the destination. tracekit.flush() reports the count.",
                self._max_queue,
            )

    def _start_worker(self) -> None:
        thread = threading.Thread(target=self._run, name="tracekit-export", daemon=True)
        self._thread = thread
        thread.start()

    # --- the worker ------------------------------------------------------------------
    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                deadline = time.monotonic() + self._interval
                while not self._closed and not self._flush_requested and len(self._queue) < self._batch_size:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    cond.wait(remaining)
                if not self._queue:
                    if self._flush_requested:
                        self._flush_requested = 0
                        cond.notify_all()
                    if self._closed:
                        return
                    continue
                n = min(len(self._queue), self._batch_size)
                batch = [self._queue.popleft() for _ in range(n)]
                self._inflight = len(batch)
            try:
                self._export(batch)
            finally:
                with cond:
                    self._inflight = 0
                    cond.notify_all()

    def _export(self, batch: list[ReadableSpan]) -> None:
        ok = True
        for exporter in self._exporters:
            try:
                result = exporter.export(batch)
            except Exception:
                result = SpanExportResult.FAILURE
                _report_quietly("export." + type(exporter).__name__)
            if result is not SpanExportResult.SUCCESS:
                ok = False
        with self._cond:
            if ok:
                self._delivered += len(batch)
            else:
                self._failed += len(batch)

    # --- flush and shutdown ------------------------------------------------------------
    def stats(self) -> FlushResult:
        with self._cond:
            pending = len(self._queue) + self._inflight
            result = FlushResult(self._delivered, pending, self._dropped, self._failed, 0)
        return _merge_exporter_stats(result, self._exporters)

    def flush(self, timeout: float) -> FlushResult:
        """Send everything queued now; wait up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._thread is not None and (self._queue or self._inflight):
                self._flush_requested += 1
                self._cond.notify_all()
                while self._queue or self._inflight:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._thread is None or not self._thread.is_alive():
                        break
                    self._cond.wait(remaining)
        for exporter in self._exporters:
            try:
                exporter.force_flush(max(int((deadline - time.monotonic()) * 1000), 0))
            except Exception:
                _report_quietly("flush." + type(exporter).__name__)
        return self.stats()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.flush(timeout_millis / 1000).pending == 0

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)
        for exporter in self._exporters:
            try:
                exporter.shutdown()
            except Exception:
                _report_quietly("shutdown." + type(exporter).__name__)


def _merge_exporter_stats(result: FlushResult, exporters: Sequence[Any]) -> FlushResult:
    """Exporters with retries or an outbox report their own counts (``stats()``)."""
    for exporter in exporters:
        stats = getattr(exporter, "stats", None)
        if stats is None:
            continue
        try:
            extra = stats()
        except Exception:
            continue
        result = dataclasses.replace(
            result,
            pending=result.pending + int(extra.get("pending", 0)),
            spilled=result.spilled + int(extra.get("spilled", 0)),
            failed=result.failed + int(extra.get("failed", 0)),
            dropped=result.dropped + int(extra.get("dropped", 0)),
        )
    return result


def _report_quietly(place: str) -> None:
    # on the worker thread a strict-mode re-raise would only kill the thread: the
    # error is still recorded in _errors.reported for the test suite to see
    try:
        _errors.report(place)
    except Exception:
        pass
