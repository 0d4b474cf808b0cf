"""The call lifecycle around an SDK method: the sync and async wrappers that start the
span, record the request, send ``traceparent``, run the user's call once and unguarded,
and hand back the result or a stream proxy; and the response tap that passes HTTP
headers to the call in flight."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tracekit import _adopt, _config, _errors
from tracekit._llm._call import SEND_HEADERS, Call, Endpoint, _fail, _http_call, _in_call, _settle, flush
from tracekit._llm._streams import AsyncStreamProxy, SyncStreamProxy
from tracekit._propagation import TRACEPARENT, format_traceparent
from tracekit._span import open_span
from tracekit._span_handle import NOOP_SPAN, Span

#: (module, cls, method) -> the original attribute from the class __dict__; filled by
#: :func:`tracekit._llm._patching.apply`; a wrapper whose key left it does nothing
_applied: dict[tuple[str, str, str], Any] = {}


def _begin(
    endpoint: Endpoint, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], remote_parent: Any = None
) -> Call | None:
    """Start the span and record the request; None when this call is not traced.
    ``remote_parent`` (headers with a ``traceparent``) continues a caller's trace: the
    recording proxy (``tracekit/_proxy``) starts its calls here too."""
    # inside a framework's model run (LangChain) the call fills that run's span: one span per call
    span = _adopt.take() if remote_parent is None else None
    if span is None:
        span = open_span(endpoint.span_name(instance, args, kwargs), endpoint.span_type, remote_parent=remote_parent)
    if span is NOOP_SPAN:
        return None
    call = Call(span, endpoint, instance, kwargs)
    record = call.record
    record.operation = endpoint.operation
    if endpoint.provider:
        record.provider = endpoint.provider
    if endpoint.message_format:
        record.message_format = endpoint.message_format
    # a plain try, not handle_internal_errors(): no generator and no f-string per call
    try:
        endpoint.on_request(call, instance, args, kwargs)
    except Exception:
        _errors.report(f"{type(endpoint).__name__}.on_request")
    flush(call)  # the request's facts are on the span from now on, however the call ends
    return call


def _outgoing(endpoint: Endpoint, instance: Any, kwargs: dict[str, Any], call: Call | None) -> dict[str, Any]:
    """The keyword arguments the SDK method gets: the app's own, or a copy that also
    sends ``traceparent`` naming the LLM span (so a gateway files its spans under it).
    An unsampled call sends fresh ids with the sampled flag off: the header stays
    valid and tells the gateway the truth."""
    if not _config.get().propagate_context:
        return kwargs
    try:
        value = _traceparent_of(call.span) if call is not None else _unsampled_traceparent()
        if value is None:
            return kwargs
        tap = endpoint.request_tap
        if call is not None and tap is not None and tap.armed():
            # the SDK's request building adds it (RequestTap): no kwargs copy, and no
            # per-request options for the SDK to merge (google-genai: ~60 µs per call)
            call.state[SEND_HEADERS] = {TRACEPARENT: value}
            return kwargs
        out = endpoint.inject_headers(instance, kwargs, {TRACEPARENT: value})
    except Exception:
        _errors.report(f"{type(endpoint).__name__}.inject_headers")
        return kwargs
    return kwargs if out is None else out


def _traceparent_of(span: Span) -> str | None:
    """The LLM span's ``traceparent``. Unlike ``Span.traceparent`` it does not mark the
    trace as continued elsewhere: only a call that turns out to go through a gateway does
    (:func:`_settle`), so a plain provider call costs the MLflow exporter nothing more."""
    otel = span._otel
    if otel is None:
        return None
    context = otel.get_span_context()
    return format_traceparent(context.trace_id, context.span_id, True)


def _unsampled_traceparent() -> str:
    import random  # only for unsampled calls: keeps `import tracekit` light

    return format_traceparent(random.getrandbits(128) or 1, random.getrandbits(64) or 1, sampled=False)


def _complete(call: Call, result: Any) -> Any:
    """Hand the result back to the app: as it is, or wrapped in a stream proxy."""
    try:
        wrapped = call.endpoint.wrap(call, result)
    except Exception:
        _errors.report(f"{type(call.endpoint).__name__}.wrap")
        wrapped = result
    if isinstance(wrapped, (SyncStreamProxy, AsyncStreamProxy)):
        return wrapped  # the proxy ends the span
    try:  # a plain try: no generator and no f-string per call
        call.endpoint.on_response(call, result)
    except Exception:
        _errors.report(f"{type(call.endpoint).__name__}.on_response")
    _settle(call)
    call.span.end()
    call.release()
    return wrapped


def _inactive(key: tuple[str, str, str] | None) -> bool:
    """True for a wrapper whose patch was removed but that the SDK still holds: openai
    3.54.0 caches bound methods (``with_raw_response``/``with_streaming_response``), so a
    wrapper can outlive ``autolog(disable=True)``; it must then do nothing."""
    return key is not None and key not in _applied


def _sync_wrapper(endpoint: Endpoint, key: tuple[str, str, str] | None = None) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if _in_call.get() or not _config.get().enabled or _inactive(key):
            return wrapped(*args, **kwargs)
        try:
            call = _begin(endpoint, instance, args, kwargs)
        except Exception:
            _errors.report(f"{type(endpoint).__name__}.begin")
            call = None
        send = _outgoing(endpoint, instance, kwargs, call)
        if call is None:
            return wrapped(*args, **send)
        token = _in_call.set(True)
        http_token = _http_call.set(call)
        try:
            result = wrapped(*args, **send)
        except BaseException as exc:
            _fail(call, exc)
            raise
        finally:
            _http_call.reset(http_token)
            _in_call.reset(token)
        return _complete(call, result)

    return wrapper


def _async_wrapper(endpoint: Endpoint, key: tuple[str, str, str] | None = None) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if _in_call.get() or not _config.get().enabled or _inactive(key):
            return wrapped(*args, **kwargs)

        async def run() -> Any:
            try:
                call = _begin(endpoint, instance, args, kwargs)
            except Exception:
                _errors.report(f"{type(endpoint).__name__}.begin")
                call = None
            send = _outgoing(endpoint, instance, kwargs, call)
            if call is None:
                return await wrapped(*args, **send)
            token = _in_call.set(True)
            http_token = _http_call.set(call)
            try:
                result = await wrapped(*args, **send)
            except BaseException as exc:
                _fail(call, exc)
                raise
            finally:
                _http_call.reset(http_token)
                _in_call.reset(token)
            return _complete(call, result)

        return run()

    return wrapper


class ResponseTap(Endpoint):
    """Not an LLM call: a patch row on the SDK's response processing (the one place a
    Stainless SDK holds the ``httpx.Response`` of every endpoint, streamed or not) that
    hands the response's headers to the traced call in flight. Reading headers touches
    neither the body nor anything the app gets back."""

    def response(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """The HTTP response among the tapped method's arguments."""
        response = kwargs.get("response")
        if response is None:
            response = next((a for a in args if hasattr(a, "headers") and hasattr(a, "status_code")), None)
        return response


def _tap_wrapper(tap: ResponseTap, key: tuple[str, str, str]) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _http_call.get()
        if call is not None and not _inactive(key):
            try:  # a plain try: no generator and no f-string per call
                headers = getattr(tap.response(args, kwargs), "headers", None)
                if headers is not None:
                    call.state["headers"] = headers
            except Exception:
                _errors.report(f"{type(tap).__name__}.response")
        return wrapped(*args, **kwargs)

    return wrapper


class RequestTap(Endpoint):
    """Not an LLM call: a patch row on the SDK's request building that adds the headers
    the traced call in flight sends (``traceparent``) to the request just built, unless
    the request has one of them already (the app's own, per request or per client,
    wins). For an endpoint whose request is built while its patched method runs (not a
    generator that sends later): such an endpoint names the tap in ``request_tap``."""

    _key: tuple[str, str, str] | None = None

    def armed(self) -> bool:
        """Whether the tap's patch is applied now (else the endpoint injects its way)."""
        return self._key is not None and self._key in _applied

    def add(self, request: Any, headers: Mapping[str, str]) -> None:
        """Add ``headers`` to the built ``request`` (a new dict: the SDK may share the
        one it built the request with among requests)."""
        own = request.headers
        names = {name.lower() for name in headers}
        if any(isinstance(key, str) and key.lower() in names for key in own):
            return
        request.headers = {**own, **headers}


def _request_tap_wrapper(tap: RequestTap, key: tuple[str, str, str]) -> Callable[..., Any]:
    tap._key = key

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        request = wrapped(*args, **kwargs)
        call = _http_call.get()
        if call is not None and not _inactive(key):
            headers = call.state.get(SEND_HEADERS)
            if headers:
                try:  # a plain try: no generator and no f-string per call
                    tap.add(request, headers)
                except Exception:
                    _errors.report(f"{type(tap).__name__}.add")
        return request

    return wrapper
