"""The export pipeline: a bounded in-memory queue drained by one background thread.

The app's thread only appends a finished span to a deque (``on_end``); batching,
encoding and network I/O happen on the worker thread. Every span is accounted for:
it is delivered, still pending, spilled to disk by an exporter that keeps an outbox,
failed (the destination refused it), or dropped -- and every drop is counted and
logged.

When the queue is full the app's thread takes the whole queue out at once and hands
it to the exporters' ``spill`` (one disk write for thousands of spans, never a
network wait); an exporter without an outbox (the local store) beside one with an
outbox is written to directly. Memory therefore stays bounded however long a server
is down.

With no outbox at all (only the local store, which is a local disk itself), a full
queue means the export thread cannot keep up -- typically a CPU-bound app that
seldom lets it have the GIL. Dropping would be the wrong trade there, so the app's
thread applies back-pressure: it takes the oldest batch out of the queue and exports
it itself, synchronously, then queues its span. The app slows down under overload
instead of losing traces. Only if that export fails are the batch's spans dropped
(counted, logged once).

At shutdown (and at exit) the exporters are told to stop waiting in retries, the
worker gets a bounded time to finish, and whatever is still queued or in flight is
spilled to the outbox -- and the log says how much and where.

tracekit implements this processor itself rather than using the SDK's
``BatchSpanProcessor`` because that one drops silently when its queue is full and
reports no counts, which would break promise 5 ("nothing is lost silently").
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracekit import _attributes, _cost, _errors
from tracekit._export._interface import Aborts, DescribesFailure, HasDeadline, ReportsStats, Spills, Ticks

if TYPE_CHECKING:
    from tracekit._config import Settings

#: how long shutdown waits for the worker before spilling what it still holds
SHUTDOWN_JOIN_SECONDS = 2.0
_QUEUE_FULL = "queue full"
_PRESSED = "writing the batch from the app's thread failed"
#: what a queued span holds beyond its inputs/outputs texts: the SDK span object, its
#: ~25 small attributes, context, status -- 3.4 KB measured with tracemalloc
#: (opentelemetry-sdk 1.x, CPython 3.11, an OpenAI chat span and its @trace parent)
SPAN_OVERHEAD_BYTES = 3400
_BIG_KEYS = (_attributes.SPAN_INPUTS, _attributes.SPAN_OUTPUTS)


def span_bytes(span: ReadableSpan) -> int:
    """The approximate memory a finished span holds while queued: its inputs/outputs
    texts (the only attributes that grow with the app's data) plus a fixed overhead.
    Two lookups, not a walk over every attribute: this runs on the app's thread."""
    size = SPAN_OVERHEAD_BYTES
    # the SDK's dict itself when it has one (opentelemetry-sdk 1.x BoundedAttributes):
    # ``span.attributes`` wraps it in a proxy whose every lookup is a Python call
    store = getattr(getattr(span, "_attributes", None), "_dict", None)
    attributes = store if type(store) is dict else span.attributes
    if attributes:
        for key in _BIG_KEYS:
            value = attributes.get(key)
            if type(value) is str:
                size += len(value)
    return size


@dataclasses.dataclass(frozen=True)
class FlushResult:
    """What became of the spans finished so far in this process (counts of spans).

    ``delivered``: accepted by the destination. ``pending``: still queued or being
    sent when the flush returned. ``spilled``: written to the on-disk outbox, to be
    sent later. ``failed``: refused by the destination or not deliverable.
    ``dropped``: discarded because neither memory nor the outbox could keep them.
    With two destinations (e.g. MLflow and OTLP) the counts of both are summed.
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

    def describe(self) -> str:
        """The counts in words, for messages: ``"12 spans delivered, 3 spilled to the outbox"``.

        >>> FlushResult(delivered=12, spilled=3).describe()
        '12 spans delivered, 3 spilled to the outbox (sent later)'
        """
        parts = []
        for count, words in (
            (self.delivered, "delivered"),
            (self.spilled, "spilled to the outbox (sent later)"),
            (self.pending, "still being sent (not confirmed)"),
            (self.failed, "failed (refused by the destination, or not written)"),
            (self.dropped, "dropped"),
        ):
            if count:
                parts.append(f"{count} {words}")
        if not parts:
            return "no spans"
        first_count = next(c for c in (self.delivered, self.spilled, self.pending, self.failed, self.dropped) if c)
        parts[0] = parts[0].replace(" ", " span " if first_count == 1 else " spans ", 1)
        return ", ".join(parts)


class _Counts:
    """Delivered/failed/dropped for one exporter that does not count for itself."""

    __slots__ = ("delivered", "dropped", "failed")

    def __init__(self) -> None:
        self.delivered = self.failed = self.dropped = 0


class Pipeline(SpanProcessor):
    """Span processor that batches finished spans to the exporters on a worker thread."""

    def __init__(
        self,
        settings: Settings,
        exporters: Sequence[SpanExporter] | None = None,
        successor: Callable[[bool], Pipeline | None] | None = None,
    ) -> None:
        """``successor(forked)`` names the pipeline a span goes to when it ends after this
        one closed (the current one; after a fork, one started for the child). The
        tracer, which owns the current pipeline, passes it: so the pipeline never
        imports the tracer. Without it such a span is spilled."""
        if exporters is None:
            from tracekit._export._exporters import build

            exporters = build(settings)
        self._exporters = list(exporters)
        self._counts = [_Counts() for _ in self._exporters]
        # a flag's value, not a method's presence: read it (the Protocols below say only what exists)
        self._self_counting = [bool(getattr(e, "counts_spans", False)) for e in self._exporters]
        self._can_spill = any(isinstance(e, Spills) for e in self._exporters)
        self._max_queue = settings.max_queue_size
        self._max_bytes = settings.max_queue_bytes
        # the worker starts a batch early once a quarter of the byte budget is queued
        self._wake_bytes = max(settings.max_queue_bytes // 4, 1)
        self._batch_size = settings.export_batch_size
        self._interval = settings.export_interval
        self._queue: deque[ReadableSpan] = deque()
        self._sizes: deque[int] = deque()  # span_bytes() of each queued span, in order
        self._queue_bytes = 0
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._inflight: list[ReadableSpan] = []
        self._flush_requested = 0
        self._closed = False
        self._forked = False
        self._dropped = 0
        self._drop_logged = False
        self._direct = 0  # spans being exported by an app thread (back-pressure)
        self._shut = False
        self._successor = successor

    @property
    def exporters(self) -> list[SpanExporter]:
        return list(self._exporters)

    # --- the app's side (hot path) -------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        cond = self._cond
        overflow: list[ReadableSpan] | None = None
        pressed: list[ReadableSpan] | None = None
        size = span_bytes(span)
        with cond:
            if self._closed:
                closed = True
            else:
                closed = False
                queue = self._queue
                # full by count, or by bytes (a span bigger than the budget is still
                # queued alone: an empty queue always takes one)
                full = len(queue) >= self._max_queue or (len(queue) > 0 and self._queue_bytes + size > self._max_bytes)
                if full and self._can_spill:
                    # take the whole queue out: one spill for many spans, outside the lock
                    overflow = self._take(len(queue))
                    overflow.append(span)
                else:
                    if full:
                        # back-pressure: no outbox to spill to, so this thread exports the
                        # oldest batch itself (outside the lock) and its span takes the room
                        n = min(len(queue), self._batch_size)
                        pressed = self._take(n)
                        self._direct += n
                    queue.append(span)
                    self._sizes.append(size)
                    self._queue_bytes += size
                    if self._thread is None:
                        self._start_worker()
                    if len(queue) >= self._batch_size or self._queue_bytes >= self._wake_bytes:
                        cond.notify()
        if pressed is not None:
            try:
                self._spill(pressed, _PRESSED, direct=True)
            finally:
                with cond:
                    self._direct -= len(pressed)
                    cond.notify_all()
        elif overflow is not None:
            self._spill(overflow, _QUEUE_FULL, direct=True)
        elif closed:
            # a span that outlived a reconfiguration: send it through the current pipeline
            current = self._successor(self._forked) if self._successor is not None else None
            if current is not None and current is not self:
                current.on_end(span)
            else:
                self._spill([span], "it ended after tracekit shut down (after the exit hook, or tracekit.shutdown())")

    def _take(self, n: int) -> list[ReadableSpan]:
        """The ``n`` oldest queued spans, out of the queue and its byte count (under the lock)."""
        queue, sizes = self._queue, self._sizes
        if n >= len(queue):
            taken = list(queue)
            queue.clear()
            sizes.clear()
            self._queue_bytes = 0
            return taken
        taken = [queue.popleft() for _ in range(n)]
        self._queue_bytes -= sum([sizes.popleft() for _ in range(n)])
        return taken

    def abandon_after_fork(self) -> None:
        """In a forked child: forget the parent's queue and (dead) worker; spans ending
        here later go to the child's own pipeline."""
        self._cond = threading.Condition(threading.Lock())
        self._queue = deque()
        self._sizes = deque()
        self._queue_bytes = 0
        self._inflight = []
        self._thread = None
        self._flush_requested = 0
        self._direct = 0
        self._closed = True
        self._forked = True

    def _spill(self, spans: list[ReadableSpan], why: str, direct: bool = False) -> None:
        """Hand spans that cannot wait in memory to each exporter's outbox (``spill``).

        An exporter without an outbox (the local store, a local disk itself) gets them
        through ``export`` when ``direct``; otherwise they are dropped, counted, logged.
        """
        _cost.price_spans(spans)
        for index, exporter in enumerate(self._exporters):
            ok = False
            try:
                if isinstance(exporter, Spills):
                    ok = bool(exporter.spill(spans))
                elif direct:
                    ok = exporter.export(spans) is SpanExportResult.SUCCESS
                    if ok and not self._self_counting[index]:
                        with self._cond:
                            self._counts[index].delivered += len(spans)
            except Exception:
                _report_quietly("spill." + type(exporter).__name__)
            if not ok and not self._self_counting[index]:
                with self._cond:
                    self._counts[index].dropped += len(spans)
                self._log_drop(exporter, why, len(spans))

    def _log_drop(self, exporter: SpanExporter, why: str, count: int) -> None:
        if self._drop_logged:
            return
        self._drop_logged = True
        if why in (_QUEUE_FULL, _PRESSED):
            _errors.logger.error(
                "tracekit: export queue full (%d spans) and the destination could not keep them (%s); "
                "dropping spans. Raise max_queue_size or check the destination. tracekit.flush() reports the count.",
                self._max_queue,
                why,
            )
        else:
            _errors.logger.error("tracekit: %d span(s) not recorded: %s", count, self._drop_reason(exporter, why))

    @staticmethod
    def _drop_reason(exporter: SpanExporter, why: str) -> str:
        if isinstance(exporter, DescribesFailure):
            try:
                return str(exporter.describe_failure(why))
            except Exception:
                pass
        return why

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
                while (
                    not self._closed
                    and not self._flush_requested
                    and len(self._queue) < self._batch_size
                    and self._queue_bytes < self._wake_bytes
                ):
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
                    idle = True
                    batch: list[ReadableSpan] = []
                else:
                    idle = False
                    batch = self._take(min(len(self._queue), self._batch_size))
                    self._inflight = batch
            if idle:
                self._tick()
                continue
            try:
                self._export(batch)
            finally:
                with cond:
                    self._inflight = []
                    cond.notify_all()

    def _tick(self) -> None:
        """Idle: let exporters with an outbox resend it or probe a server that was down."""
        for exporter in self._exporters:
            if isinstance(exporter, Ticks):
                try:
                    exporter.tick()
                except Exception:
                    _report_quietly("tick." + type(exporter).__name__)

    def _export(self, batch: list[ReadableSpan]) -> None:
        _cost.price_spans(batch)  # here, not on the app's thread: a price takes ~70 µs
        for index, exporter in enumerate(self._exporters):
            try:
                result = exporter.export(batch)
            except Exception:
                result = SpanExportResult.FAILURE
                _report_quietly("export." + type(exporter).__name__)
            if not self._self_counting[index]:
                with self._cond:
                    if result is SpanExportResult.SUCCESS:
                        self._counts[index].delivered += len(batch)
                    else:
                        self._counts[index].failed += len(batch)

    # --- flush and shutdown ------------------------------------------------------------
    def stats(self) -> FlushResult:
        with self._cond:
            pending = len(self._queue) + len(self._inflight) + self._direct
            delivered = sum(c.delivered for c in self._counts)
            failed = sum(c.failed for c in self._counts)
            dropped = self._dropped + sum(c.dropped for c in self._counts)
        result = FlushResult(delivered, pending, dropped, failed, 0)
        return _merge_exporter_stats(result, self._exporters)

    def flush(self, timeout: float) -> FlushResult:
        """Send everything queued now; wait up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._thread is not None and (self._queue or self._inflight or self._direct):
                self._flush_requested += 1
                self._cond.notify_all()
                while self._queue or self._inflight or self._direct:
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

    def shutdown(self, join_timeout: float = SHUTDOWN_JOIN_SECONDS) -> None:
        """Stop: no more waiting on the network; what is left goes to the outbox.

        Waits at most ``join_timeout`` seconds for the worker (the exit hook passes what
        is left of ``exit_timeout``): a worker stuck in a request or on a locked store
        is left behind (a daemon thread) and its batch spilled. Idempotent.
        """
        if self._shut:
            return
        self._shut = True
        for exporter in self._exporters:
            if isinstance(exporter, Aborts):
                try:
                    exporter.abort()
                except Exception:
                    _report_quietly("abort." + type(exporter).__name__)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        interrupted: KeyboardInterrupt | None = None
        if thread is not None and thread is not threading.current_thread() and join_timeout > 0:
            try:
                thread.join(timeout=join_timeout)
            except KeyboardInterrupt as exc:  # Ctrl-C: stop waiting, still keep the spans
                interrupted = exc
        stuck = thread is not None and thread.is_alive()
        with self._cond:
            leftovers = self._take(len(self._queue))
            if stuck:
                # stuck in a request: keep a copy (the server upserts, a double send is harmless);
                # from now on they count as spilled (or dropped), no longer as pending
                leftovers.extend(self._inflight)
                self._inflight = []
        if leftovers:
            self._spill(leftovers, "the export did not finish in time")
        spilled_before = self.stats().spilled
        for exporter in self._exporters:
            try:
                exporter.shutdown()
            except Exception:
                _report_quietly("shutdown." + type(exporter).__name__)
        if spilled_before:
            places = sorted({str(getattr(getattr(e, "outbox", None), "dir", "")) for e in self._exporters} - {""})
            _errors.logger.warning(
                "tracekit: %d span(s) could not be delivered yet and wait in the outbox (%s); "
                "the next tracekit process or `tracekit sync` sends them",
                spilled_before,
                ", ".join(places),
            )
        if interrupted is not None:
            raise interrupted

    def set_deadline(self, deadline: float | None) -> None:
        """Tell the exporters that nothing may wait past ``deadline`` (``time.monotonic()``):
        the exit hook's budget. Exporters without the notion ignore it."""
        for exporter in self._exporters:
            if isinstance(exporter, HasDeadline):
                try:
                    exporter.set_deadline(deadline)
                except Exception:
                    _report_quietly("deadline." + type(exporter).__name__)


def _merge_exporter_stats(result: FlushResult, exporters: Sequence[Any]) -> FlushResult:
    """Exporters with retries or an outbox report their own counts (``stats()``); their
    in-flight spans are already counted as pending by the pipeline."""
    for exporter in exporters:
        if not isinstance(exporter, ReportsStats):
            continue
        try:
            extra = exporter.stats()
        except Exception:
            continue
        result = dataclasses.replace(
            result,
            delivered=result.delivered + int(extra.get("delivered", 0)),
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
