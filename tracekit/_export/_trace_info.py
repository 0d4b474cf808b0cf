"""The trace's record in MLflow (``StartTraceV3``), sent after the spans that end a trace.

Why (measured on mlflow 3.17.2): spans ingested over OTLP file a new trace in the
experiment of the request that first names the trace id. When a gateway (MLflow AI
Gateway with a ``traceparent``) writes its mirror spans before our batch arrives, the
trace is created in the Default experiment ``0`` and our spans are appended to it there:
the user's experiment shows nothing. MLflow's own client ends every trace with
``POST /api/3.0/mlflow/traces`` (``StartTraceV3``, ``mlflow.store.tracking.rest_store
.RestStore.start_trace``); when the trace exists, the server's store moves it and all its
spans into the experiment given there (``SqlAlchemyStore._start_trace_once``), and the
``mlflow.traceName`` tag fills the trace-name column of the trace list.

What the request carries, and what it leaves alone (the store overwrites what is given):

* ``trace_id``, ``trace_location`` (the experiment), ``request_time``,
  ``execution_duration`` and ``state`` from the span that ends the trace;
* ``tags``: ``mlflow.traceName`` and the root's ``mlflow.traceTag.*`` (metadata promoted
  to tags as :func:`tracekit._export._encode.mlflow_ready` does);
* for a fragment (a top span continuing a caller's trace), ``fragment: true`` (ours, not
  sent): the exporter first asks whether the caller's root already filed the trace, and then
  leaves it alone (the record would overwrite its name, state and timing with the fragment's);
* no previews, token usage or cost: the server derives the previews from the root span it
  already stored, and sums usage and cost over the whole span tree (skipping a span whose
  ancestor carries usage, so a gateway's mirror spans under the client's LLM span are not
  counted twice). Totals given here would be authoritative and freeze out spans that
  arrive later, e.g. those of another service continuing the trace.

Everything here is pure but for asking :func:`tracekit._propagation.context_sent`;
:class:`tracekit._export.mlflow.MlflowExporter` sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["FRAGMENT", "TRACE_NAME_TAG", "ends_trace", "trace_info", "trace_infos", "with_experiment"]

#: key of a record for a fragment continuing a caller's trace (not part of the request)
FRAGMENT = "fragment"

#: the trace tag MLflow shows as the trace's name
TRACE_NAME_TAG = attr.TRACE_NAME[len(attr.TRACE_TAG_PREFIX) :]


def ends_trace(span: ReadableSpan) -> bool:
    """True for a trace's root, or for this process's top span of a trace continued from a
    caller (``tracekit.remote_parent``): once it is delivered, the trace can be filed."""
    if span.parent is None:
        return True
    return bool((span.attributes or {}).get(attr.REMOTE_PARENT))


def _rfc3339(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns // 1_000_000) % 1000:03d}Z"


def _state(span: ReadableSpan) -> str:
    from opentelemetry.trace import StatusCode

    return "ERROR" if span.status.status_code is StatusCode.ERROR else "OK"


def _tags(span: ReadableSpan) -> dict[str, str]:
    attributes: Mapping[str, Any] = span.attributes or {}
    tags: dict[str, str] = {}
    for key, value in attributes.items():
        if key.startswith(attr.TRACE_METADATA_PREFIX):
            tags.setdefault(key[len(attr.TRACE_METADATA_PREFIX) :], str(value))
    for key, value in attributes.items():
        if key.startswith(attr.TRACE_TAG_PREFIX):
            tags[key[len(attr.TRACE_TAG_PREFIX) :]] = str(value)  # an explicit tag wins over metadata
    tags[TRACE_NAME_TAG] = tags.get(TRACE_NAME_TAG) or span.name
    return tags


def trace_info(span: ReadableSpan) -> dict[str, Any]:
    """The ``trace_info`` of ``StartTraceV3`` for the trace ``span`` ends, without its
    experiment (see :func:`with_experiment`): protobuf JSON, as MLflow's client sends it."""
    start = span.start_time or 0
    end = span.end_time or start
    duration_ms = max(end - start, 0) // 1_000_000
    info: dict[str, Any] = {
        "trace_id": f"tr-{span.context.trace_id:032x}",
        "request_time": _rfc3339(start),
        "execution_duration": f"{duration_ms / 1000:.3f}s",
        "state": _state(span),
        "tags": _tags(span),
    }
    if span.parent is not None:
        info[FRAGMENT] = True
    return info


def trace_infos(spans: Sequence[ReadableSpan]) -> list[dict[str, Any]]:
    """One :func:`trace_info` per span of the batch that ends a trace which may have
    spans from another writer: its context left the process in a ``traceparent``
    (:func:`tracekit._propagation.context_sent`), or it is a fragment of a caller's trace.
    Other traces need no record: their root's batch files and names them."""
    from tracekit._propagation import context_sent

    return [
        trace_info(span)
        for span in spans
        if ends_trace(span) and (span.parent is not None or context_sent(span.context.trace_id))
    ]


def with_experiment(info: Mapping[str, Any], experiment_id: str) -> dict[str, Any]:
    """The ``StartTraceV3`` request body for ``info`` filed in ``experiment_id``."""
    located = {k: v for k, v in info.items() if k != FRAGMENT}
    located["trace_location"] = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
    return {"trace": {"trace_info": located}}
