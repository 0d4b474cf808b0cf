"""The MLflow destination: OTLP/HTTP to ``{tracking_uri}/v1/traces``.

Spans are encoded by the OpenTelemetry OTLP encoder, gzipped, and posted with the
``x-mlflow-experiment-id`` header. The experiment is resolved on the worker thread
the first time a batch is sent (by id, else by name -- created if missing -- else
the default ``0``), authentication and TLS follow MLflow's own client variables.
Reliability (retries, outbox, counts) comes from :class:`ReliableExporter`.

After a batch holding the root of a trace that sent a ``traceparent`` (a gateway may
have added spans, and filed the trace elsewhere first) is delivered, the trace gets its
record with ``StartTraceV3`` (:mod:`tracekit._export._trace_info`), which files it in the
user's experiment and freezes its totals; a fragment of a caller's trace gets one only
while the caller's root has not filed it.

>>> exporter = MlflowExporter("http://127.0.0.1:5000", experiment_name="support-bot")  # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracekit._export._delivery import DestinationError
from tracekit._export._encode import mlflow_ready
from tracekit._export._experiments import resolve_experiment
from tracekit._export._http import TransportError, mlflow_client
from tracekit._export._reader import read_trace
from tracekit._export._retry import Verdict, classify
from tracekit._export._sender import ReliableExporter
from tracekit._export._trace_info import FRAGMENT, trace_infos, with_experiment
from tracekit._redact import needs_credentials, redact_url

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from tracekit._config import Settings

__all__ = ["MlflowExporter", "mlflow_client", "read_trace"]

#: how long a failed experiment lookup is remembered before asking the server again
_RECHECK_SECONDS = 30.0


class MlflowExporter(ReliableExporter):
    """Span exporter for an MLflow tracking server (>= 3.4, for OTLP span ingestion).

    Follows the ``SpanExporter`` contract: ``export`` never raises and returns
    ``SUCCESS`` once the batch is delivered or safe in the outbox.
    """

    label = "MLflow server"

    def __init__(
        self,
        tracking_uri: str,
        experiment_name: str | None = None,
        experiment_id: str | None = None,
        *,
        timeout: float = 30.0,
        retry_budget: float = 15.0,
        outbox_root: Path | None = None,
        outbox_max_bytes: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        self.experiment_name = experiment_name
        self.experiment_id = experiment_id
        destination = {
            "kind": "mlflow",
            "uri": redact_url(self.tracking_uri),  # written to the outbox: no credentials
            "experiment_name": experiment_name,
            "experiment_id": experiment_id,
        }
        super().__init__(
            destination,
            mlflow_client(timeout, environ),
            retry_budget=retry_budget,
            outbox_root=outbox_root,
            outbox_max_bytes=outbox_max_bytes,
        )
        self._resolved: str | None = None
        self._resolve_error: tuple[float, DestinationError] | None = None
        self._resolve_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> MlflowExporter:
        """The exporter for ``settings.tracking_uri`` and the configured experiment."""
        return cls(
            settings.tracking_uri,
            settings.experiment_name,
            settings.experiment_id,
            timeout=settings.export_timeout,
            retry_budget=settings.export_retry_budget,
        )

    @classmethod
    def from_destination(
        cls, destination: Mapping[str, Any], environ: Mapping[str, str] | None = None, **kwargs: Any
    ) -> MlflowExporter:
        """Rebuild the exporter an outbox directory was written for (``tracekit sync``).

        The outbox keeps the URI without its credentials; they come back from
        ``TRACEKIT_TRACKING_URI`` / ``MLFLOW_TRACKING_URI`` when that names the same
        server. Raises ``ValueError`` when no variable does.
        """
        import os

        env = os.environ if environ is None else environ
        uri = str(destination["uri"])
        if needs_credentials(uri):
            candidates = [env.get(name, "").strip().rstrip("/") for name in ("TRACEKIT_TRACKING_URI", "MLFLOW_TRACKING_URI")]
            full = next((c for c in candidates if c and redact_url(c) == uri), None)
            if full is None:
                raise ValueError(
                    f"{uri}: the outbox keeps no credentials; set TRACEKIT_TRACKING_URI (or MLFLOW_TRACKING_URI) "
                    "to the full URI to resend"
                )
            uri = full
        return cls(
            uri,
            destination.get("experiment_name"),
            destination.get("experiment_id"),
            **kwargs,
        )

    def describe(self) -> str:
        experiment = self.experiment_id or self.experiment_name
        uri = redact_url(self.tracking_uri)
        return f"{uri} (experiment {experiment!r})" if experiment else uri

    def _url(self) -> str:
        return f"{self.tracking_uri}/v1/traces"

    def _prepare(self, spans: Sequence[ReadableSpan]) -> Sequence[ReadableSpan]:
        return mlflow_ready(spans)

    def experiment(self) -> str:
        """The resolved experiment id (asks the server the first time); raises DestinationError."""
        if self._resolved is not None:
            return self._resolved
        with self._resolve_lock:
            if self._resolved is not None:
                return self._resolved
            cached = self._resolve_error
            recent = cached is not None and time.monotonic() - cached[0] < _RECHECK_SECONDS
            if cached is not None and recent and cached[1].verdict is not Verdict.RETRY:
                raise cached[1]
            try:
                self._resolved = resolve_experiment(self._client, self.tracking_uri, self.experiment_name, self.experiment_id)
            except DestinationError as exc:
                self._resolve_error = (time.monotonic(), exc)
                raise
            self._resolve_error = None
            return self._resolved

    def _headers(self) -> dict[str, str]:
        return {"x-mlflow-experiment-id": self.experiment()}

    def _finish_records(self, spans: Sequence[ReadableSpan]) -> list[dict[str, Any]]:
        return trace_infos(spans)

    def _send_finish(self, record: Mapping[str, Any], timeout: float | None) -> tuple[Verdict, str, float | None]:
        """``POST /api/3.0/mlflow/traces`` (``StartTraceV3``) for one trace."""
        from tracekit._export._retry import retry_after_seconds

        try:
            body = with_experiment(record, self.experiment())
        except DestinationError as exc:
            return exc.verdict, exc.message, None
        try:
            result = self._client.request("POST", f"{self.tracking_uri}/api/3.0/mlflow/traces", json_body=body, timeout=timeout)
        except TransportError as exc:
            return Verdict.RETRY, f"cannot reach {self.describe()}: {exc}", None
        return classify(result.status), result.reason(), retry_after_seconds(result.headers)

    def _records_to_send(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """A root's record always goes (it also freezes the trace's token and cost totals
        against a gateway's spans that arrive later: mlflow 3.17.2 sums a late span whose
        parent has not arrived yet as if it had no ancestor). A fragment's record goes only
        while the caller's root has neither reached the server nor filed the trace -- it
        would overwrite the caller's name, state and timing; one ``batchGetInfos`` call
        asks for all of a batch's fragments. Any doubt sends them all."""
        fragments = [r for r in records if r.get(FRAGMENT)]
        if not fragments:
            return list(records)
        try:
            result = self._client.request(
                "POST",
                f"{self.tracking_uri}/api/3.0/mlflow/traces/batchGetInfos",
                json_body={"trace_ids": [str(r.get("trace_id")) for r in fragments]},
            )
        except TransportError:
            return list(records)
        if result.status != 200:
            return list(records)
        try:
            found = {str(i.get("trace_id")): i for i in result.json().get("trace_infos") or [] if isinstance(i, dict)}
        except (ValueError, AttributeError):
            return list(records)
        needed: list[Mapping[str, Any]] = []
        for record in records:
            info = found.get(str(record.get("trace_id"))) if record.get(FRAGMENT) else None
            if info is not None:
                finalized = (info.get("trace_metadata") or {}).get("mlflow.trace.infoFinalized") == "true"
                if finalized or info.get("state") in ("OK", "ERROR"):
                    continue  # the caller's root is there: leave its trace alone
            needed.append(record)
        return needed
