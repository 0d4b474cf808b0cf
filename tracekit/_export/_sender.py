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
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracekit._export._encode import encode_otlp, gzip_body
from tracekit._export._http import HttpClient, HttpResult, TransportError
from tracekit._export._outbox import Entry, Outbox, default_max_bytes, default_root
from tracekit._export._retry import Backoff, Verdict, classify, retry_after_seconds

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

logger = logging.getLogger("tracekit")

__all__ = ["DestinationError", "ReliableExporter", "SyncReport"]

#: longest pause between probes of a destination that is down
PROBE_CAP = 30.0
#: how long one drain of the outbox may keep the worker from new spans
DRAIN_SLICE = 2.0


class DestinationError(Exception):
    """The destination cannot take requests yet (raised while preparing a request).

    ``verdict`` says what to do with the batch, as for an HTTP answer.
    """

    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.message = message


@dataclasses.dataclass
class SyncReport:
    """What :meth:`ReliableExporter.sync` did."""

    sent_files: int = 0
    sent_spans: int = 0
    rejected_spans: int = 0
    error: str | None = None


class ReliableExporter(SpanExporter):
    """Base class: subclasses say where (``_url``/``_headers``) and what (``_prepare``).

    Construct with ``retry_budget`` (seconds a batch may spend in retries before it
    is spilled) and ``timeout`` (per request).
    """

    #: shown in log messages: "MLflow server", "OTLP endpoint"
    label = "destination"
    #: the pipeline reads this exporter's counts from ``stats()`` instead of counting results
    counts_spans = True

    def __init__(
        self,
        destination: Mapping[str, Any],
        client: HttpClient,
        *,
        retry_budget: float = 15.0,
        outbox_root: Path | None = None,
        outbox_max_bytes: int | None = None,
        backoff: Backoff | None = None,
        compress: bool = True,
    ) -> None:
        self._client = client
        self._retry_budget = retry_budget
        self._backoff = backoff or Backoff()
        self._compress = compress
        self.outbox = Outbox(
            default_root() if outbox_root is None else outbox_root,
            destination,
            default_max_bytes() if outbox_max_bytes is None else outbox_max_bytes,
        )
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._abort = threading.Event()
        self._closed = False
        # counts of this process's spans
        self._delivered = self._pending = self._spilled = self._failed = self._dropped = 0
        self._resent = 0  # spans of earlier processes delivered from the outbox
        # health
        self._down_since: float | None = None
        self._failures_in_row = 0
        self._next_probe = 0.0
        self._logged: set[str] = set()
        self.last_errors: deque[tuple[float, str]] = deque(maxlen=10)
        self._status_written = 0.0
        #: time.monotonic() past which nothing may wait (the exit hook's budget)
        self._deadline: float | None = None
        self._exit_probed = False
        self._health_restored = False
        self._records_pool: Any = None  # threads sending trace records, made on first use

    def _restore_health(self) -> None:
        """Start as "down" when an earlier process found the destination down and its
        batches still wait: new batches go to the outbox until a probe succeeds, so a
        dead server does not cost every short-lived process its whole exit timeout.
        Runs once, on the first export (the worker's thread, not the app's)."""
        if self._health_restored:
            return
        self._health_restored = True
        try:
            down = self.outbox.read_status().get("down_since") and self.outbox.has_entries()
        except Exception:
            down = False
        if down:
            now = time.monotonic()
            self._down_since = now
            self._failures_in_row = 1
            self._next_probe = now + random.uniform(0.5, 1.0)

    # --- what subclasses provide ----------------------------------------------------------
    def _url(self) -> str:
        raise NotImplementedError

    def _headers(self) -> dict[str, str]:
        """Per-request headers; may raise :class:`DestinationError`."""
        return {}

    def _prepare(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        return spans

    def _finish_records(self, spans: Sequence[ReadableSpan]) -> list[dict[str, Any]]:
        """Records to send once ``spans`` are delivered (MLflow: one per trace they end)."""
        return []

    def _send_finish(self, record: Mapping[str, Any], timeout: float | None) -> tuple[Verdict, str, float | None]:
        """Send one record from :meth:`_finish_records`: (verdict, reason, Retry-After)."""
        return Verdict.DELIVERED, "", None

    def _records_to_send(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The records that still need sending (a subclass may ask the destination); all by default."""
        return list(records)

    def describe(self) -> str:
        """Where the spans go, for messages (no secrets)."""
        return self._url()

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

    def _exit_probe(self) -> bool:
        """At exit, a destination that is down gets one probe (of at most a second, see
        :meth:`_request_timeout`) even if the next is not due: a run of short-lived
        processes must notice that the server is back without `tracekit sync`."""
        if self._deadline is None or self._exit_probed:
            return False
        self._exit_probed = True
        # every request of the probe (an MLflow experiment lookup too) within the second
        self._client.deadline = min(self._deadline, time.monotonic() + 1.0)
        return True

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _request_timeout(self, timeout: float | None) -> float:
        """The timeout of one request: the client's (``export_timeout``, so that a slow
        server is not sent the same batch twice), or less when a caller bounds it."""
        wait = self._client.timeout if timeout is None else timeout
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            if self._is_down():
                left = min(left, 1.0)
            wait = min(wait, left)
        return max(wait, 0.1)

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

    # --- sending --------------------------------------------------------------------------
    def _attempt(self, body: bytes, timeout: float | None = None) -> tuple[Verdict, str, float | None]:
        """One request: (verdict, reason, Retry-After seconds)."""
        try:
            headers = self._headers()
        except DestinationError as exc:
            return exc.verdict, exc.message, None
        headers["Content-Type"] = "application/x-protobuf"
        if self._compress:
            headers["Content-Encoding"] = "gzip"
            payload = body
        else:
            import gzip

            payload = gzip.decompress(body)
        try:
            result: HttpResult = self._client.request(
                "POST", self._url(), body=payload, headers=headers, timeout=self._request_timeout(timeout)
            )
        except TransportError as exc:
            return Verdict.RETRY, f"cannot reach {self.describe()}: {exc}", None
        verdict = classify(result.status)
        return verdict, result.reason(), retry_after_seconds(result.headers)

    def _deliver(self, body: bytes, budget: float) -> tuple[Verdict, str]:
        """Attempt until delivered, refused, out of budget or aborted."""
        deadline = time.monotonic() + budget
        attempt = 0
        while True:
            verdict, reason, retry_after = self._attempt(body)
            if verdict is Verdict.DELIVERED:
                return verdict, reason
            self._record_failure(verdict, reason)
            if verdict is not Verdict.RETRY:
                return verdict, reason
            delay = self._backoff.delay(attempt, retry_after)
            attempt += 1
            limit = deadline if self._deadline is None else min(deadline, self._deadline)
            if time.monotonic() + delay > limit or self._abort.wait(delay):
                return verdict, reason

    def _finish(self, records: Sequence[Mapping[str, Any]], budget: float) -> bool:
        """Send the trace records of delivered spans, each retried within ``budget``; what
        is still not taken waits in the outbox (an entry with no spans), what the server
        refuses is set aside with the reason. False when some wait in the outbox.

        One request per trace (the server has no batch call), so several go at once, as
        MLflow's own client does (``MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS``): one at a
        time, a busy app's records would hold up its spans."""
        if not records:
            return True
        try:
            records = self._records_to_send(records)
        except Exception as exc:  # when in doubt, send them all
            self._note("finish-select", f"error while choosing trace records to send: {exc!r}", level=logging.ERROR)
        if not records:
            return True
        deadline = time.monotonic() + budget
        if len(records) == 1:
            outcomes = [self._send_record(records[0], deadline)]
        else:
            outcomes = list(self._record_pool().map(lambda record: self._send_record(record, deadline), records))
        left = []
        for record, (verdict, reason) in zip(records, outcomes, strict=True):
            if verdict is Verdict.REJECT:
                self.outbox.put(b"", 0, reason=reason, rejected=True, finish=[record])
                self._note(
                    "finish-reject:" + reason[:40],
                    f"{self.label} {self.describe()} refused a trace record: {reason}; its spans were delivered",
                    level=logging.ERROR,
                )
            elif verdict is not Verdict.DELIVERED:
                left.append(record)
        if not left:
            return True
        if not self.outbox.put(b"", 0, reason="trace records not sent yet", finish=left):
            self._note(
                "outbox-full-finish",
                f"outbox {self.outbox.root} is full or not writable: {len(left)} trace record(s) for "
                f"{self.describe()} are lost (their spans were delivered)",
                level=logging.ERROR,
            )
        return False

    def _send_record(self, record: Mapping[str, Any], deadline: float) -> tuple[Verdict, str]:
        """One record, retried with backoff until delivered, refused, past ``deadline`` or aborted."""
        attempt = 0
        if self._deadline is not None:  # the exit hook's budget bounds these requests too
            deadline = min(deadline, self._deadline)
        while True:
            if self._abort.is_set():
                return Verdict.RETRY, "shutting down"
            timeout = min(self._client.timeout, max(deadline - time.monotonic(), 1.0))
            try:
                verdict, reason, retry_after = self._send_finish(record, timeout)
            except Exception as exc:  # a bug here must not lose the record: keep it for later
                self._note("finish-send", f"error while sending a trace record: {exc!r}", level=logging.ERROR)
                return Verdict.RETRY, repr(exc)
            if verdict in (Verdict.DELIVERED, Verdict.REJECT):
                if verdict is Verdict.REJECT:
                    self._record_failure(verdict, reason)
                return verdict, reason
            self._record_failure(verdict, reason)
            delay = self._backoff.delay(attempt, retry_after)
            attempt += 1
            if verdict is not Verdict.RETRY or time.monotonic() + delay > deadline or self._abort.wait(delay):
                return verdict, reason

    def _record_pool(self) -> Any:
        with self._lock:
            if self._records_pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._records_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="tracekit-records")
            return self._records_pool

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

    # --- health and messages --------------------------------------------------------------
    def _is_down(self) -> bool:
        return self._down_since is not None

    def _mark_up(self) -> None:
        if self._down_since is not None:
            logger.warning("tracekit: %s %s is reachable again; resending the outbox", self.label, self.describe())
            self._logged = {k for k in self._logged if not k.startswith(("retry", "auth"))}
            self.outbox.write_status(down_since=None)
        self._down_since = None
        self._failures_in_row = 0
        self._next_probe = 0.0

    def _mark_down(self, persist: bool = True) -> None:
        """The destination is down: probe it at growing intervals. ``persist`` (an
        outage, not refused credentials) records it for the next process."""
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
            if persist:
                self.outbox.write_status(down_since=time.time())  # the next process starts from this
        self._failures_in_row += 1
        cap = min(PROBE_CAP, max(self._retry_budget, 1.0))
        pause = min(cap, 0.5 * 2 ** min(self._failures_in_row, 10))
        self._next_probe = now + random.uniform(pause / 2, pause)

    def _record_failure(self, verdict: Verdict, reason: str) -> None:
        now = time.time()
        self.last_errors.append((now, reason))
        if verdict is Verdict.RETRY:
            self._note(
                "retry",
                f"{self.label} {self.describe()} is not taking spans ({reason}); retrying, then keeping them "
                f"in the outbox {self.outbox.dir} to resend when it is back",
            )
        elif verdict is Verdict.AUTH:
            self._note(
                "auth",
                f"{self.label} {self.describe()} refused the credentials ({reason}); check MLFLOW_TRACKING_USERNAME/"
                f"PASSWORD or MLFLOW_TRACKING_TOKEN (or the OTLP headers). Spans are kept in {self.outbox.dir}; "
                "run `tracekit sync` once fixed",
                level=logging.ERROR,
            )
            self._mark_down(persist=False)  # the next process may bring fixed credentials
        # status.json for `tracekit status`: at most every 2 s, and always for a new message
        last = self.last_errors[-2][1] if len(self.last_errors) > 1 else None
        if reason != last or now - self._status_written > 2.0:
            self._status_written = now
            self.outbox.write_status(
                destination=self.describe(),
                last_errors=[{"time": t, "message": m} for t, m in self.last_errors],
            )

    def _note(self, kind: str, message: str, level: int = logging.WARNING) -> None:
        """Log ``message`` once per kind of problem (again after the destination recovers)."""
        if kind in self._logged:
            logger.debug("tracekit: %s", message)
            return
        self._logged.add(kind)
        logger.log(level, "tracekit: %s", message)
