"""The reliable OTLP/HTTP span exporter that the MLflow and OTLP exporters share.

``export`` runs on the pipeline's worker thread, never on the app's. A batch is
encoded once (OTLP protobuf, gzipped) and then:

* delivered -- retried with backoff and jitter (honouring ``Retry-After``) on
  connection errors, timeouts, 408, 429 and 5xx, within a time budget;
* spilled to the on-disk outbox when the budget runs out, when the credentials are
  refused (401/403), when the exporter is shutting down, or while the destination
  is known to be down (then nothing waits on the network until the next probe);
* set aside under ``outbox/<key>/rejected`` with the reason when the server refuses
  the batch itself (another 4xx) -- counted as failed, never retried in a loop.

The outbox is drained back to the destination by the same worker thread after a
success and on idle ticks, by :meth:`force_flush` (``tracekit.flush()``), by a
later process, or by ``tracekit sync``. Every span is counted as delivered,
pending, spilled, failed or dropped (outbox full), and every kind of error is
logged once.

Sending one batch (the request, its retries, the trace records that follow it) and
the destination's health live in the base class, :mod:`tracekit._export._delivery`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracekit._export._delivery import Delivery
from tracekit._export._encode import encode_otlp, gzip_body
from tracekit._export._outbox import Entry
from tracekit._export._retry import Verdict

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["ReliableExporter", "SyncReport"]

#: how long one drain of the outbox may keep the worker from new spans
DRAIN_SLICE = 2.0


@dataclasses.dataclass
class SyncReport:
    """What :meth:`ReliableExporter.sync` did."""

    sent_files: int = 0
    sent_spans: int = 0
    rejected_spans: int = 0
    error: str | None = None


class ReliableExporter(Delivery, SpanExporter):
    """Base class: subclasses say where (``_url``/``_headers``) and what (``_prepare``).

    Construct with ``retry_budget`` (seconds a batch may spend in retries before it
    is spilled) and ``timeout`` (per request).
    """

    #: the pipeline reads this exporter's counts from ``stats()`` instead of counting results
    counts_spans = True

    # --- the SpanExporter contract --------------------------------------------------------
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Deliver, spill or set aside ``spans``; never raises.

        ``SUCCESS`` when the batch was delivered or safely spilled to the outbox.
        """
        if not spans:
            return SpanExportResult.SUCCESS
        try:
            body = self.encode(spans)
        except Exception as exc:
            self._note("encode", f"could not encode {len(spans)} span(s): {exc!r}", level=logging.ERROR)
            with self._lock:
                self._failed += len(spans)
            return SpanExportResult.FAILURE
        return self._export_body(body, len(spans), self._records_of(spans))

    def _records_of(self, spans: Sequence[ReadableSpan]) -> list[dict[str, Any]]:
        try:
            return self._finish_records(spans)
        except Exception as exc:
            # the spans still go; only the trace records are missing (logged once)
            self._note("finish-encode", f"could not describe the traces of {len(spans)} span(s): {exc!r}", logging.ERROR)
            return []

    def encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        """The batch as a gzipped OTLP body (pure given the spans)."""
        return gzip_body(encode_otlp(self._prepare(spans)))

    def _export_body(self, body: bytes, count: int, finish: Sequence[Mapping[str, Any]] = ()) -> SpanExportResult:
        self._restore_health()
        with self._lock:
            self._pending += count
        try:
            if self._closed or self._abort.is_set() or self._past_deadline():
                verdict, reason = Verdict.RETRY, "shutting down"
            elif self._is_down() and time.monotonic() < self._next_probe and not self._exit_probe():
                verdict, reason = Verdict.RETRY, "destination down"
            else:
                # a destination that was down gets one attempt (a probe), not a retry budget
                budget = 0.0 if self._is_down() else self._retry_budget
                verdict, reason = self._deliver(body, budget)
                if verdict is Verdict.RETRY:
                    self._mark_down()
        finally:
            with self._lock:
                self._pending -= count
        if verdict is Verdict.DELIVERED:
            with self._lock:
                self._delivered += count
            self._mark_up()
            self._finish(finish, self._retry_budget)
            self._drain(DRAIN_SLICE)
            return SpanExportResult.SUCCESS
        if verdict is Verdict.REJECT:
            self.outbox.put(body, count, reason=reason, rejected=True, finish=finish)
            with self._lock:
                self._failed += count
            self._note(
                "reject:" + reason[:40],
                f"{self.label} {self.describe()} refused {count} span(s): {reason}; the batch is set aside "
                f"in {self.outbox.dir / 'rejected'} and will not be retried (see `tracekit status`)",
                level=logging.ERROR,
            )
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if self._spill_body(body, count, finish) else SpanExportResult.FAILURE

    def spill(self, spans: Sequence[ReadableSpan]) -> bool:
        """Write ``spans`` to the outbox without trying the network (queue full, exit)."""
        if not spans:
            return True
        try:
            body = self.encode(spans)
        except Exception as exc:
            self._note("encode", f"could not encode {len(spans)} span(s): {exc!r}", level=logging.ERROR)
            with self._lock:
                self._failed += len(spans)
            return False
        return self._spill_body(body, len(spans), self._records_of(spans))

    def _spill_body(self, body: bytes, count: int, finish: Sequence[Mapping[str, Any]] = ()) -> bool:
        if self.outbox.put(body, count, finish=finish):
            with self._lock:
                self._spilled += count
            return True
        with self._lock:
            self._dropped += count
        self._note(
            "outbox-full",
            f"outbox {self.outbox.root} is full or not writable (limit {self.outbox.max_bytes} bytes, "
            "TRACEKIT_OUTBOX_MAX_BYTES); dropping spans. tracekit.flush() reports the count.",
            level=logging.ERROR,
        )
        return False

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Resend what this destination's outbox holds, within the timeout.

        Runs on the caller's thread (``tracekit.flush()`` is an explicit wait); each
        request is bounded by what is left of the timeout, so a dead server costs
        at most that.
        """
        if self._closed:
            return True
        try:
            self._restore_health()
            seconds = max(timeout_millis / 1000.0, 0.0)
            if seconds >= 0.1 and not (self._deadline is not None and self._is_down()):
                # (at exit, a destination that is down is not waited for: its outbox keeps)
                self._drain(seconds, bounded=True)
            return not self.outbox.has_entries()
        except Exception as exc:
            self._note("flush", f"error while resending the outbox: {exc!r}", level=logging.ERROR)
            return False

    def tick(self) -> None:
        """Called by the pipeline's worker when idle: probe / resend when due."""
        self._restore_health()
        if self._closed or (self._is_down() and time.monotonic() < self._next_probe):
            return
        try:
            self._drain(DRAIN_SLICE)
        except Exception as exc:
            self._note("tick", f"error while resending the outbox: {exc!r}", level=logging.ERROR)

    def abort(self) -> None:
        """Stop waiting in retries now: in-flight batches go to the outbox (exit path)."""
        self._abort.set()

    def set_deadline(self, deadline: float | None) -> None:
        """No request or retry may wait past ``deadline`` (``time.monotonic()``), and a
        destination that is down gets at most a one-second probe: the exit hook's budget."""
        self._deadline = deadline
        self._client.deadline = deadline

    def shutdown(self) -> None:
        """Stop; record this run's counts for ``tracekit status``."""
        if self._closed:
            return
        self._abort.set()
        self._closed = True
        counts = self.stats()
        if counts["pending"] and self._deadline is not None and self._down_since is None:
            # a request still unanswered when the exit's time ran out: for the next
            # process, the destination is down (it probes before waiting on it again)
            try:
                self.outbox.write_status(down_since=time.time())
            except Exception:
                pass
        if self.outbox.dir.exists() or counts["spilled"] or counts["failed"] or counts["dropped"]:
            try:
                self.outbox.write_status(last_run={**counts, "resent": self._resent, "ended": time.time()})
            except Exception:
                pass
        if self._records_pool is not None:
            self._records_pool.shutdown(wait=True)
        self._client.close()

    def stats(self) -> dict[str, int]:
        """This process's span counts: delivered, pending, spilled (still in the outbox),
        failed (set aside) and dropped (outbox full)."""
        with self._lock:
            return {
                "delivered": self._delivered,
                "pending": self._pending,
                "spilled": self._spilled,
                "failed": self._failed,
                "dropped": self._dropped,
            }

    @property
    def resent(self) -> int:
        """Spans written by earlier processes that this one delivered from the outbox."""
        return self._resent

    # --- synchronous use: `tracekit export` and `tracekit sync` -----------------------------
    def send_now(self, spans: Sequence[ReadableSpan]) -> tuple[Verdict, str]:
        """Deliver ``spans`` on this thread with the usual retries; nothing is spilled
        (but trace records that could not follow delivered spans wait in the outbox)."""
        verdict, reason = self._deliver(self.encode(spans), self._retry_budget)
        if verdict is Verdict.DELIVERED:
            self._finish(self._records_of(spans), self._retry_budget)
        return verdict, reason

    def sync(self, timeout: float) -> SyncReport:
        """Resend everything in this destination's outbox, retrying each batch as usual.

        Stops at the first batch that still cannot be delivered (the destination is
        down or refuses the credentials) or when ``timeout`` seconds have passed.
        """
        report = SyncReport()
        deadline = time.monotonic() + timeout
        self.outbox.mark_maybe_nonempty()
        while time.monotonic() < deadline:
            entry = self.outbox.claim_next()
            if entry is None:
                break
            try:
                body = self.outbox.read_body(entry)
            except (OSError, ValueError):
                self.outbox.reject(entry, "unreadable outbox file")
                report.rejected_spans += entry.spans
                continue
            budget = min(self._retry_budget, max(deadline - time.monotonic(), 0.0))
            verdict, reason = self._deliver(body, budget) if body or not entry.finish else (Verdict.DELIVERED, "")
            if verdict is Verdict.DELIVERED:
                self.outbox.done(entry)
                finished = self._finish(entry.finish, budget)
                report.sent_files += 1
                report.sent_spans += entry.spans
                if not finished:
                    report.error = "trace records not taken yet; they wait in the outbox"
                    break
            elif verdict is Verdict.REJECT:
                self.outbox.reject(entry, reason)
                report.rejected_spans += entry.spans
                report.error = reason
            else:
                self.outbox.release(entry)
                report.error = reason
                break
        else:
            report.error = report.error or f"stopped after {timeout:g} s"
        return report

    # --- resending the outbox -------------------------------------------------------------
    def _drain(self, seconds: float, bounded: bool = False) -> None:
        """Resend outbox entries for up to ``seconds`` (one attempt each; stop at the first failure).

        ``seconds`` limits when a new entry may start. Each request waits the full request
        timeout unless ``bounded`` (an explicit flush with a timeout): a server slower than
        what is left of the slice must not time out here, receive the batch anyway, and get
        it again on the next resend.
        """
        deadline = time.monotonic() + seconds
        if bounded:
            # an explicit flush waits for a drain in progress on the worker (within its
            # timeout), rather than return while the entry being resent is not yet done
            if not self._drain_lock.acquire(timeout=seconds):
                return
        elif not self.outbox.has_entries() or not self._drain_lock.acquire(blocking=False):
            return  # nothing to send, or another thread is draining
        try:
            while time.monotonic() < deadline and not self._abort.is_set():
                entry = self.outbox.claim_next()
                if entry is None:
                    return
                if not self._resend(entry, max(deadline - time.monotonic(), 0.1) if bounded else None):
                    return
        finally:
            self._drain_lock.release()

    def _resend(self, entry: Entry, timeout: float | None) -> bool:
        try:
            body = self.outbox.read_body(entry)
        except (OSError, ValueError):
            self.outbox.reject(entry, "unreadable outbox file")
            return True
        if body or not entry.finish:
            verdict, reason, _ = self._attempt(body, timeout=None if timeout is None else min(timeout, self._client.timeout))
        else:
            verdict, reason = Verdict.DELIVERED, ""  # only the trace records were left
        if verdict is Verdict.DELIVERED:
            self.outbox.done(entry)
            finished = self._finish(entry.finish, 0.0)
            with self._lock:
                if entry.mine:
                    self._spilled = max(self._spilled - entry.spans, 0)
                    self._delivered += entry.spans
                else:
                    self._resent += entry.spans
            if not finished:
                self._mark_down()  # the records went back to the outbox: try again at the next probe
                return False
            self._mark_up()
            return True
        self._record_failure(verdict, reason)
        if verdict is Verdict.REJECT:
            self.outbox.reject(entry, reason)
            with self._lock:
                if entry.mine:
                    self._spilled = max(self._spilled - entry.spans, 0)
                    self._failed += entry.spans
            return True
        self.outbox.release(entry)
        self._mark_down(persist=verdict is Verdict.RETRY)
        return False
