"""One traced SDK call: its record (:class:`Call`), what a provider writes
(:class:`Endpoint`), and how a call ends when it failed or settles (gateway facts).

The wrappers (:mod:`._wrappers`) start calls here, the stream proxies
(:mod:`._streams`) end them here; neither this module nor the providers start spans.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

from tracekit import _attributes as attr
from tracekit import _config, _errors, _gateway
from tracekit._llm._record import CallRecord, record_error, write
from tracekit._propagation import note_context_sent
from tracekit._span_handle import Span, SpanType

#: True while a patched SDK method runs in this flow: a helper that calls another
#: patched method internally (``stream()`` -> ``create()``) yields one span, not two
_in_call: ContextVar[bool] = ContextVar("tracekit_in_llm_call", default=False)


#: ``call.state`` key: headers a RequestTap adds to the call's HTTP request
SEND_HEADERS = "send_headers"

#: the traced call whose HTTP request is on its way in this flow: a response tap (a
#: patch on the SDK's response processing) hands it the HTTP response's headers
_http_call: ContextVar[Call | None] = ContextVar("tracekit_http_call", default=None)


@contextmanager
def nested_calls_suppressed(call: Call | None = None) -> Iterator[None]:
    """Within this block patched SDK methods run untraced.

    For a helper whose request leaves *after* its patched call returned: e.g. a stream
    manager (openai 3.54.0 ``chat.completions.stream()``) calls ``create()`` only when
    its ``__enter__`` runs; the proxy of the manager enters it under this block so the
    call stays one span. ``call`` (the helper's traced call) receives the response
    headers of the request sent in the block.
    """
    token = _in_call.set(True)
    http_token = _http_call.set(call)
    try:
        yield
    finally:
        _http_call.reset(http_token)
        _in_call.reset(token)


# --- the per-call record ---------------------------------------------------------------


class Call:
    """One SDK call being traced: the span plus what the provider needs until it ends.

    ``record`` is what the provider's hooks found out (:class:`CallRecord`: the core
    writes it on the span after each hook); ``state`` is the provider's scratch space
    (e.g. the request's tools, needed to parse a streamed response). References to
    user data are dropped when the call ends.
    """

    __slots__ = (
        "chunks",
        "endpoint",
        "first_chunk_ns",
        "instance",
        "kwargs",
        "n_chunks",
        "record",
        "span",
        "start_ns",
        "state",
    )

    def __init__(self, span: Span, endpoint: Endpoint, instance: Any, kwargs: Mapping[str, Any]) -> None:
        self.span = span
        self.endpoint = endpoint
        self.instance = instance
        self.kwargs = kwargs
        self.state: dict[str, Any] = {}
        self.record = CallRecord()
        self.start_ns = time.time_ns()
        self.first_chunk_ns: int | None = None
        self.chunks: list[Any] = []
        self.n_chunks = 0

    def release(self) -> None:
        self.instance = None
        self.kwargs = {}
        self.state = {}
        self.chunks = []


# --- what a provider writes ----------------------------------------------------------


class Endpoint:
    """Maps one SDK method's data to the call record. Subclass per endpoint in a provider module.

    Every hook runs guarded by the core; none may start or end spans, write span
    attributes or call the SDK method: hooks fill ``call.record``, which the core
    writes on the span after each hook. Set :attr:`span_type`, :attr:`provider` (``gen_ai.provider.name``),
    :attr:`operation` (``gen_ai.operation.name``) and :attr:`message_format`.
    """

    span_type: ClassVar[str] = SpanType.CHAT_MODEL.value
    #: a :class:`~._wrappers.RequestTap` that adds the outgoing headers to the request
    #: the SDK builds while this endpoint's method runs; None: :meth:`inject_headers`
    request_tap: ClassVar[Any] = None
    provider: ClassVar[str] = ""
    operation: ClassVar[str] = attr.OP_CHAT
    message_format: ClassVar[str | None] = None

    def span_name(self, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
        """The span's name. Convention: ``{operation} {model}``, as the GenAI conventions say."""
        model = kwargs.get("model")
        return f"{self.operation} {model}" if model else self.operation

    def on_request(self, call: Call, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        """Record the request (inputs, parameters, model, server address)."""

    def wrap(self, call: Call, result: Any) -> Any:
        """Return ``result`` for a finished response (the core then calls
        :meth:`on_response` and ends the span) or a stream proxy built with
        :func:`proxy_stream` (the proxy ends the span)."""
        return result

    def on_response(self, call: Call, result: Any) -> None:
        """Record a non-streamed response."""

    def on_chunk(self, call: Call, chunk: Any) -> None:
        """Called per stream chunk, on the app's thread: keep it cheap (no serialization).
        The default keeps the chunk for :meth:`on_stream_end`."""
        call.chunks.append(chunk)

    def on_stream_end(self, call: Call, stream: Any, complete: bool) -> None:
        """Record the accumulated output of a stream. ``stream`` is the SDK's stream
        object (its own accumulated snapshot may be read from it); ``complete`` is
        False when the stream was cut short."""

    def on_error(self, call: Call, exc: BaseException) -> None:
        """Record provider facts about a failed call (the core records the exception)."""
        record_error(call.record, exc)

    def inject_headers(self, instance: Any, kwargs: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | None:
        """A copy of ``kwargs`` that makes the SDK send ``headers`` too, or None to send
        nothing (the app set one of them itself, or the SDK has no place for them).

        Never mutates ``kwargs`` or anything in it. The default suits the Stainless SDKs
        (openai, anthropic): per-request ``extra_headers``; a header set there or in the
        client's ``default_headers`` wins.
        """
        return with_extra_headers(getattr(instance, "_client", None), kwargs, headers)


def _has_header(headers: Any, names: Mapping[str, str]) -> bool:
    """True when ``headers`` (a mapping, or None) sets any of ``names`` (case-insensitive)."""
    if not isinstance(headers, Mapping):
        return False
    return any(isinstance(key, str) and key.lower() in names for key in headers)


def with_extra_headers(client: Any, kwargs: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | None:
    """``kwargs`` with ``headers`` merged into a copy of its ``extra_headers`` (Stainless
    SDKs); None when the call's ``extra_headers`` or the client's default headers set
    one of them already (the app's header wins)."""
    extra = kwargs.get("extra_headers")
    if not isinstance(extra, Mapping):
        extra = {}  # absent, None or the SDK's NOT_GIVEN sentinel
    if _has_header(extra, headers):
        return None
    # openai 3.x / anthropic 2.x keep the client's own headers in ``_custom_headers``;
    # ``default_headers`` (public) builds a merged dict on every read
    custom = getattr(client, "_custom_headers", None)
    if custom is None:
        custom = getattr(client, "default_headers", None)
    if _has_header(custom, headers):
        return None
    out = dict(kwargs)
    out["extra_headers"] = {**extra, **headers}
    return out


def flush(call: Call) -> None:
    """Write what the provider's hooks put in ``call.record`` on the span (after each
    hook). Guarded: a plain ``try`` (a context manager would cost a generator per call)."""
    try:
        write(call.span, call.record)
    except Exception:
        _errors.report(f"{type(call.endpoint).__name__}.record")


def _settle(call: Call, exc: BaseException | None = None) -> None:
    """After the last hook, before the span ends: the record's last facts, then what
    the gateway said (its kind, served model, ids, overhead, cost, error body).
    Guarded. (The price-table cost comes later, on the export thread: :mod:`tracekit._cost`.)"""
    flush(call)
    with _errors.handle_internal_errors("gateway.record"):
        headers = call.state.get("headers")
        if headers is None and exc is not None:
            headers = _gateway.error_headers(exc)
        _gateway.record(call.span, headers, exc)
        otel = call.span._otel
        if otel is not None and call.span._attrs.get(attr.GATEWAY_KIND) and _config.get().propagate_context:
            # a gateway got this call's traceparent and may write spans of this trace to
            # the same server: the MLflow exporter files the trace explicitly
            note_context_sent(otel.get_span_context().trace_id)


def _fail(call: Call, exc: BaseException) -> None:
    with _errors.handle_internal_errors(f"{type(call.endpoint).__name__}.on_error"):
        call.endpoint.on_error(call, exc)
    _settle(call, exc)
    call.span.record_exception(exc)
    call.span.end()
    call.release()
