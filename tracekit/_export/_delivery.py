"""Getting one encoded batch to the destination: the base of :class:`ReliableExporter`.

A batch is sent as one OTLP/HTTP request and retried with backoff and jitter
(honouring ``Retry-After``) on connection errors, timeouts, 408, 429 and 5xx, within
a time budget; refused credentials (401/403) and other 4xx end the attempts at once.
Delivered spans are followed by the trace records a subclass asks for (MLflow: one per
trace they end), several at a time. This module also keeps the destination's health:
down since when, when to probe it next (also across processes, through the outbox's
status file), how long the exit hook lets a request wait, and every kind of error
logged once. What to do with a batch that is not delivered (spill it to the outbox,
set it aside, resend it later) is :mod:`tracekit._export._sender`'s.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracekit._export._http import HttpClient, HttpResult, TransportError
from tracekit._export._outbox import Outbox, default_max_bytes, default_root
from tracekit._export._retry import Backoff, Verdict, classify, retry_after_seconds

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

logger = logging.getLogger("tracekit")

__all__ = ["DestinationError", "Delivery"]

#: longest pause between probes of a destination that is down
PROBE_CAP = 30.0


class DestinationError(Exception):
    """The destination cannot take requests yet (raised while preparing a request).

    ``verdict`` says what to do with the batch, as for an HTTP answer.
    """

    def __init__(self, verdict: Verdict, message: str) -> None:
        super().__init__(message)
        self.verdict = verdict
        self.message = message


class Delivery:
    """Sends encoded batches and trace records to one destination, and keeps its health.

    Subclasses say where (``_url``/``_headers``) and what (``_prepare``, the trace
    records); :class:`~tracekit._export._sender.ReliableExporter` adds the span
    exporter's contract and the outbox around it.
    """

    #: shown in log messages: "MLflow server", "OTLP endpoint"
    label = "destination"

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

    # --- the exit hook's deadline ---------------------------------------------------------
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
