"""The shared core of every provider: patch tables, the LLM-call lifecycle, stream proxies.

A provider module (``tracekit/openai.py`` …) only *maps data*: it declares a patch
table of :class:`Patch` rows, each pointing at an :class:`Endpoint` subclass whose
methods turn a request, a response, stream chunks or an error into span data. This
module does everything else: it wraps the SDK method, starts and ends the span,
guards every provider hook (an internal error is reported and the call goes on
untraced), runs the user's call exactly once and unguarded, and re-raises its
exception unchanged with a bare ``raise``.

Lifecycle of one call (sync or async)::

    wrapper ─► Endpoint.on_request(call, ...)     guarded; failure -> the call runs untraced
           ─► the SDK method (once, unguarded, with nested patched calls suppressed)
           ─► raised?   Endpoint.on_error(call, exc); span ERROR; ``raise``
           ─► returned: Endpoint.wrap(call, result) -> result, or a stream proxy
                        non-stream: Endpoint.on_response(call, result); span ends
                        stream: the proxy records chunks; Endpoint.on_stream_end(...)
                                runs exactly once, on exhaustion, error, close, with-exit,
                                cancellation or garbage collection; the span ends there
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import logging
import sys
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar
from urllib.parse import urlsplit

import wrapt

from tracekit import _adopt, _config, _errors, _gateway
from tracekit import _attributes as attr
from tracekit._propagation import TRACEPARENT, format_traceparent, note_context_sent
from tracekit._span import NOOP_SPAN, Span, SpanType, open_span

logger = logging.getLogger("tracekit")

#: True while a patched SDK method runs in this flow: a helper that calls another
#: patched method internally (``stream()`` -> ``create()``) yields one span, not two
_in_call: ContextVar[bool] = ContextVar("tracekit_in_llm_call", default=False)


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

    ``state`` is the provider's scratch space (e.g. the request's tools, needed to
    parse a streamed response). References to user data are dropped when the call
    ends.
    """

    __slots__ = ("chunks", "endpoint", "first_chunk_ns", "instance", "kwargs", "n_chunks", "span", "start_ns", "state")

    def __init__(self, span: Span, endpoint: Endpoint, instance: Any, kwargs: Mapping[str, Any]) -> None:
        self.span = span
        self.endpoint = endpoint
        self.instance = instance
        self.kwargs = kwargs
        self.state: dict[str, Any] = {}
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
    """Maps one SDK method's data to span data. Subclass per endpoint in a provider module.

    Every hook runs guarded by the core; none may start or end spans or call the
    SDK method. Set :attr:`span_type`, :attr:`provider` (``gen_ai.provider.name``),
    :attr:`operation` (``gen_ai.operation.name``) and :attr:`message_format`.
    """

    span_type: ClassVar[str] = SpanType.CHAT_MODEL.value
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
        record_error(call.span, exc)

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


@dataclasses.dataclass(frozen=True)
class Patch:
    """One row of a provider's patch table: ``module``'s ``cls.method`` is traced by ``endpoint``."""

    module: str
    cls: str
    method: str
    endpoint: Endpoint
    is_async: bool = False


# --- applying patch tables --------------------------------------------------------------

#: (module, cls, method) -> the original attribute from the class __dict__
_applied: dict[tuple[str, str, str], Any] = {}


#: rows whose module the app has not imported yet: they are applied by an import hook
#: when it is (key -> row)
_armed: dict[tuple[str, str, str], Patch] = {}


def apply(table: Sequence[Patch]) -> list[Patch]:
    """Wrap every method of ``table`` that exists in the installed SDK (idempotent).

    A missing module, class or method is skipped alone with a debug log, so an older
    or newer SDK never fails the whole setup. A row whose module the app has not
    imported yet is *armed* instead: it is applied when that module is first imported
    (openai 3.54.0 loads its resources lazily; importing them all would add ~100 ms to
    ``autolog()`` for modules an app may never use). Returns the rows applied now.

    ``autolog()`` is an explicit set-up call: it first checks the whole configuration
    (environment included) and raises :class:`~tracekit.ConfigError` for a bad value.
    """
    _config.check()
    done = []
    for patch in table:
        key = (patch.module, patch.cls, patch.method)
        if key in _applied or key in _armed:
            continue
        if patch.module not in sys.modules and _arm(patch, key):
            continue
        if _apply_row(patch, key):
            done.append(patch)
    return done


def _apply_row(patch: Patch, key: tuple[str, str, str]) -> bool:
    try:
        module = importlib.import_module(patch.module)
        owner = getattr(module, patch.cls)
        original = owner.__dict__[patch.method]
    except (ImportError, AttributeError, KeyError):
        logger.debug("tracekit: %s.%s.%s not in this SDK version; not traced", *key)
        return False
    try:
        if isinstance(patch.endpoint, ResponseTap):
            wrapper = _tap_wrapper(patch.endpoint, key)
        else:
            wrapper = _async_wrapper(patch.endpoint, key) if patch.is_async else _sync_wrapper(patch.endpoint, key)
        setattr(owner, patch.method, wrapt.FunctionWrapper(original, wrapper))
        _applied[key] = original
        return True
    except Exception:
        _errors.report(f"patch.{patch.cls}.{patch.method}")
        return False


def _arm(patch: Patch, key: tuple[str, str, str]) -> bool:
    """Apply ``patch`` when its module is first imported. False when the module does
    not exist (then :func:`apply` skips the row as before), or when its existence
    cannot be told without importing it."""
    # find_spec imports the parent packages of what it looks for: ask only for the first
    # level below the nearest package that is loaded already (the rest of the path is
    # checked when the module is imported: a row missing then is skipped as usual)
    parts = patch.module.split(".")
    depth = len(parts) - 1
    while depth > 0 and ".".join(parts[:depth]) not in sys.modules:
        depth -= 1
    if depth == 0:
        return False  # not even the SDK's top-level package is loaded
    try:
        if importlib.util.find_spec(".".join(parts[: depth + 1])) is None:
            return False
    except (ImportError, ValueError):
        return False
    _armed[key] = patch
    wrapt.register_post_import_hook(functools.partial(_on_import, key), patch.module)
    return True


def _on_import(key: tuple[str, str, str], module: Any) -> None:
    # runs inside the app's import of the SDK module: never raise into it
    patch = _armed.pop(key, None)
    if patch is None or key in _applied:
        return  # disarmed by remove(), or applied meanwhile
    with _errors.handle_internal_errors(f"patch.{patch.cls}.{patch.method}"):
        _apply_row(patch, key)


def remove(table: Sequence[Patch]) -> list[Patch]:
    """Undo :func:`apply` for every row of ``table``. Returns the rows removed."""
    done = []
    for patch in table:
        key = (patch.module, patch.cls, patch.method)
        if _armed.pop(key, None) is not None:
            done.append(patch)  # its hook finds it disarmed
            continue
        original = _applied.pop(key, None)
        if original is None:
            continue
        with _errors.handle_internal_errors(f"unpatch.{patch.cls}.{patch.method}"):
            owner = getattr(importlib.import_module(patch.module), patch.cls)
            setattr(owner, patch.method, original)
            done.append(patch)
    return done


def is_applied(patch: Patch) -> bool:
    """True for a row that is applied, or armed to be when its module is imported."""
    key = (patch.module, patch.cls, patch.method)
    return key in _applied or key in _armed


# --- the wrappers ---------------------------------------------------------------------


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
    with _errors.handle_internal_errors(f"{type(endpoint).__name__}.on_request"):
        base = {attr.GEN_AI_OPERATION: endpoint.operation}
        if endpoint.provider:
            base[attr.GEN_AI_PROVIDER] = endpoint.provider
            base[attr.GEN_AI_SYSTEM] = endpoint.provider
            base[attr.LLM_PROVIDER] = endpoint.provider
        if endpoint.message_format:
            base[attr.MESSAGE_FORMAT] = endpoint.message_format
        span.set_attributes(base)
        endpoint.on_request(call, instance, args, kwargs)
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


def _settle(call: Call, exc: BaseException | None = None) -> None:
    """Before the span ends: what the gateway said (its kind, served model, ids,
    overhead, cost, error body). Guarded. (The price-table cost comes later, on the
    export thread: :mod:`tracekit._cost`.)"""
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


def _complete(call: Call, result: Any) -> Any:
    """Hand the result back to the app: as it is, or wrapped in a stream proxy."""
    try:
        wrapped = call.endpoint.wrap(call, result)
    except Exception:
        _errors.report(f"{type(call.endpoint).__name__}.wrap")
        wrapped = result
    if isinstance(wrapped, (SyncStreamProxy, AsyncStreamProxy)):
        return wrapped  # the proxy ends the span
    with _errors.handle_internal_errors(f"{type(call.endpoint).__name__}.on_response"):
        call.endpoint.on_response(call, result)
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
            with _errors.handle_internal_errors(f"{type(tap).__name__}.response"):
                headers = getattr(tap.response(args, kwargs), "headers", None)
                if headers is not None:
                    call.state["headers"] = headers
        return wrapped(*args, **kwargs)

    return wrapper


# --- stream proxies -----------------------------------------------------------------------

END_EXHAUSTED = "exhausted"
END_CLOSED = "closed"
END_ERROR = "error"
END_ABANDONED = "abandoned"
END_CANCELLED = "cancelled"


#: streams whose span is still open, by id of their state: at interpreter exit the exit
#: hook ends them (finalize_open_streams) before the last flush; a proxy collected after
#: that would end its span too late to be exported
_OPEN_STREAMS: dict[int, _StreamState] = {}


def finalize_open_streams() -> int:
    """End the span of every stream still open (interpreter exit): recorded with what
    was received so far and marked incomplete. Returns how many."""
    states = list(_OPEN_STREAMS.values())
    for state in states:
        proxy = state.owner() if state.owner is not None else None
        try:
            stream = proxy.__wrapped__ if proxy is not None else None
        except Exception:
            stream = None
        state.finalize(stream, END_ABANDONED)
    return len(states)


class _StreamState:
    """What both proxy twins share: the call, and ``finalize`` that runs exactly once."""

    __slots__ = ("call", "done", "owner")

    def __init__(self, call: Call | None, owner: Any = None) -> None:
        self.call: Call | None = call
        self.done = False
        #: weak reference to the proxy that ends the span (for finalize_open_streams)
        self.owner: Any = None
        if call is not None:
            self.own(owner)
            _OPEN_STREAMS[id(self)] = self

    def own(self, proxy: Any) -> None:
        try:
            self.owner = weakref.ref(proxy) if proxy is not None else None
        except TypeError:
            self.owner = None

    def _close(self) -> None:
        self.done = True
        _OPEN_STREAMS.pop(id(self), None)

    def chunk(self, chunk: Any) -> None:
        call = self.call
        if call is None:
            return
        if call.first_chunk_ns is None:
            call.first_chunk_ns = time.time_ns()
        call.n_chunks += 1
        try:
            call.endpoint.on_chunk(call, chunk)
        except Exception:
            _errors.report(f"{type(call.endpoint).__name__}.on_chunk")

    def respond(self, result: Any, exc: BaseException | None = None) -> None:
        """End the call as a finished non-streamed response (once, like :meth:`finalize`):
        for a body read after the patched call returned, e.g. an HTTP response the app
        parses later (openai ``with_streaming_response``). ``result`` may be None when
        the app never read the body; ``exc`` is the error reading it raised."""
        if self.done:
            return
        self._close()
        call, self.call = self.call, None
        if call is None:
            return
        if exc is None:
            with _errors.handle_internal_errors(f"{type(call.endpoint).__name__}.on_response"):
                call.endpoint.on_response(call, result)
            _settle(call)
        else:
            with _errors.handle_internal_errors(f"{type(call.endpoint).__name__}.on_error"):
                call.endpoint.on_error(call, exc)
            _settle(call, exc)
            call.span.record_exception(exc)
        call.span.end()
        call.release()

    def fail(self, exc: BaseException) -> None:
        """The call failed before a stream existed (a helper whose request runs at
        ``__enter__``): end the span as a failed call, without stream attributes."""
        if self.done:
            return
        self._close()
        call, self.call = self.call, None
        if call is not None:
            _fail(call, exc)

    def finalize(self, stream: Any, reason: str, exc: BaseException | None = None) -> None:
        if self.done:
            return
        self._close()
        call, self.call = self.call, None
        if call is None:
            return
        end_ns = time.time_ns()
        span = call.span
        with _errors.handle_internal_errors(f"{type(call.endpoint).__name__}.on_stream_end"):
            complete = reason == END_EXHAUSTED
            values: dict[str, Any] = {attr.STREAM_CHUNKS: call.n_chunks, attr.STREAM_END_REASON: reason}
            if not complete:
                values[attr.STREAM_INCOMPLETE] = True
            if call.first_chunk_ns is not None:
                ttft_ms = (call.first_chunk_ns - call.start_ns) / 1e6
                values[attr.STREAM_TTFT_MS] = round(ttft_ms, 3)
                span.add_event(attr.FIRST_TOKEN_EVENT, {"time_to_first_token_ms": round(ttft_ms, 3)}, call.first_chunk_ns)
            span.set_attributes(values)
            call.endpoint.on_stream_end(call, stream, complete)
        if exc is not None:
            with _errors.handle_internal_errors(f"{type(call.endpoint).__name__}.on_error"):
                call.endpoint.on_error(call, exc)
        _settle(call, exc)
        if exc is not None:
            span.record_exception(exc)
        span.end(end_ns)
        call.release()


class SyncStreamProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """Wraps an SDK stream: looks and behaves exactly like it (``isinstance`` holds,
    every attribute passes through), sees every chunk, and ends the span exactly once.

    Providers subclass it to intercept helper methods that consume the stream
    internally (``get_final_completion()`` …): call :meth:`_tk_finalize` there.
    """

    def __init__(self, wrapped: Any, call: Call | None) -> None:
        super().__init__(wrapped)
        self._self_state = _StreamState(call, self)
        self._self_iter: Any = None
        self._self_owner = True

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        it = self._self_iter
        if it is None:
            it = self._self_iter = iter(self.__wrapped__)
        try:
            chunk = next(it)
        except StopIteration:
            self._tk_finalize(END_EXHAUSTED)
            raise
        except GeneratorExit:
            self._tk_finalize(END_CLOSED)
            raise
        except BaseException as exc:
            self._tk_finalize(END_ERROR, exc)
            raise
        self._self_state.chunk(chunk)
        return chunk

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._tk_finalize(END_CLOSED if exc is None else END_ERROR, exc)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._tk_finalize(END_CLOSED)

    def _tk_chunk(self, chunk: Any) -> None:
        self._self_state.chunk(chunk)

    def _tk_finalize(self, reason: str, exc: BaseException | None = None) -> None:
        self._self_state.finalize(self.__wrapped__, reason, exc)

    def _tk_fail(self, exc: BaseException) -> None:
        """End the span as a failed call (see :meth:`_StreamState.fail`)."""
        self._self_state.fail(exc)

    def _tk_respond(self, result: Any, exc: BaseException | None = None) -> None:
        """End the call as a non-streamed response (see :meth:`_StreamState.respond`)."""
        self._self_state.respond(result, exc)

    def _tk_handoff(self, wrapped: Any, proxy_class: type | None = None) -> Any:
        """Proxy ``wrapped`` -- a stream this object produced (a stream manager's stream,
        a raw response's parsed stream) -- as the carrier of this same call: it shares
        the finalize-once state, and garbage collection of ``self`` no longer ends the
        span (the new proxy's does)."""
        if proxy_class is None:
            proxy_class = AsyncStreamProxy if hasattr(wrapped, "__aiter__") else SyncStreamProxy
        proxy = proxy_class(wrapped, None)
        proxy._self_state = self._self_state
        proxy._self_state.own(proxy)
        self._self_owner = False
        return proxy

    def __del__(self) -> None:
        state = getattr(self, "_self_state", None)
        if state is not None and not state.done and getattr(self, "_self_owner", True):
            state.finalize(self.__wrapped__, END_ABANDONED)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__wrapped__.__reduce_ex__(protocol)


class AsyncStreamProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """The async twin of :class:`SyncStreamProxy`."""

    def __init__(self, wrapped: Any, call: Call | None) -> None:
        super().__init__(wrapped)
        self._self_state = _StreamState(call, self)
        self._self_iter: Any = None
        self._self_owner = True

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        it = self._self_iter
        if it is None:
            it = self._self_iter = self.__wrapped__.__aiter__()
        try:
            chunk = await it.__anext__()
        except StopAsyncIteration:
            self._tk_finalize(END_EXHAUSTED)
            raise
        except GeneratorExit:
            self._tk_finalize(END_CLOSED)
            raise
        except BaseException as exc:
            cancelled = type(exc).__name__ == "CancelledError"
            self._tk_finalize(END_CANCELLED if cancelled else END_ERROR, exc)
            raise
        self._self_state.chunk(chunk)
        return chunk

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._tk_finalize(END_CLOSED if exc is None else END_ERROR, exc)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._tk_finalize(END_CLOSED)

    async def aclose(self) -> Any:
        try:
            closer = getattr(self.__wrapped__, "aclose", None) or self.__wrapped__.close
            return await closer()
        finally:
            self._tk_finalize(END_CLOSED)

    def _tk_chunk(self, chunk: Any) -> None:
        self._self_state.chunk(chunk)

    def _tk_finalize(self, reason: str, exc: BaseException | None = None) -> None:
        self._self_state.finalize(self.__wrapped__, reason, exc)

    def _tk_fail(self, exc: BaseException) -> None:
        """End the span as a failed call (see :meth:`_StreamState.fail`)."""
        self._self_state.fail(exc)

    def _tk_respond(self, result: Any, exc: BaseException | None = None) -> None:
        """End the call as a non-streamed response (see :meth:`_StreamState.respond`)."""
        self._self_state.respond(result, exc)

    def _tk_handoff(self, wrapped: Any, proxy_class: type | None = None) -> Any:
        """Proxy ``wrapped`` -- a stream this object produced (a stream manager's stream,
        a raw response's parsed stream) -- as the carrier of this same call: it shares
        the finalize-once state, and garbage collection of ``self`` no longer ends the
        span (the new proxy's does)."""
        if proxy_class is None:
            proxy_class = AsyncStreamProxy if hasattr(wrapped, "__aiter__") else SyncStreamProxy
        proxy = proxy_class(wrapped, None)
        proxy._self_state = self._self_state
        proxy._self_state.own(proxy)
        self._self_owner = False
        return proxy

    def __del__(self) -> None:
        state = getattr(self, "_self_state", None)
        if state is not None and not state.done and getattr(self, "_self_owner", True):
            state.finalize(self.__wrapped__, END_ABANDONED)


def proxy_stream(call: Call, stream: Any, proxy_class: type | None = None) -> Any:
    """Wrap ``stream`` so that ``call``'s span ends with it. Picks the async twin for an
    async iterable unless ``proxy_class`` is given."""
    if proxy_class is None:
        proxy_class = AsyncStreamProxy if hasattr(stream, "__aiter__") else SyncStreamProxy
    return proxy_class(stream, call)


# --- attribute helpers shared by the providers -----------------------------------------------


def record_server(span: Span, base_url: Any) -> None:
    """The client's base URL as ``server.address`` / ``server.port`` and the path prefix
    (a gateway shows there: ``/gateway/openai/v1``, ``/serving-endpoints``)."""
    if base_url is None:
        return
    values = _server_attributes(str(base_url))
    if values:
        span.set_attributes(values)


@functools.lru_cache(maxsize=64)
def _server_attributes(base_url: str) -> dict[str, Any] | None:
    # cached: an app has a handful of base URLs, and urlsplit + .hostname + .port cost
    # ~10 µs per call (measured, CPython 3.11); callers only read the returned dict
    parts = urlsplit(base_url)
    if not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path.rstrip("/")
    # never record credentials or the query string (some gateways put keys there)
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return {
        attr.SERVER_ADDRESS: parts.hostname,
        attr.SERVER_PORT: port,
        attr.BASE_URL: f"{parts.scheme}://{netloc}{path}",
        attr.GATEWAY_PATH: path or "/",
    }


def record_usage(
    span: Span,
    input_tokens: int | None,
    output_tokens: int | None,
    total_tokens: int | None = None,
    *,
    cache_read: int | None = None,
    cache_creation: int | None = None,
    reasoning: int | None = None,
) -> None:
    """Token usage on both ``mlflow.chat.tokenUsage`` and the ``gen_ai.usage.*`` keys."""
    if input_tokens is None and output_tokens is None and total_tokens is None:
        return
    if total_tokens is None:
        total_tokens = (input_tokens or 0) + (output_tokens or 0)
    usage: dict[str, int] = {
        attr.USAGE_INPUT: int(input_tokens or 0),
        attr.USAGE_OUTPUT: int(output_tokens or 0),
        attr.USAGE_TOTAL: int(total_tokens),
    }
    values: dict[str, Any] = {
        attr.GEN_AI_USAGE_INPUT: usage[attr.USAGE_INPUT],
        attr.GEN_AI_USAGE_OUTPUT: usage[attr.USAGE_OUTPUT],
    }
    if cache_read is not None:
        usage[attr.USAGE_CACHE_READ] = int(cache_read)
        values[attr.GEN_AI_USAGE_CACHE_READ] = int(cache_read)
    if cache_creation is not None:
        usage[attr.USAGE_CACHE_CREATION] = int(cache_creation)
        values[attr.GEN_AI_USAGE_CACHE_CREATION] = int(cache_creation)
    if reasoning is not None:
        usage[attr.USAGE_REASONING] = int(reasoning)
        values[attr.GEN_AI_USAGE_REASONING] = int(reasoning)
    values[attr.TOKEN_USAGE] = usage
    span.set_attributes(values)


def record_models(span: Span, requested: Any, served: Any = None) -> None:
    """The requested model (``gen_ai.request.model``) and the one that served the call
    (``gen_ai.response.model``); ``mlflow.llm.model`` is the served one when known."""
    values: dict[str, Any] = {}
    if requested:
        values[attr.GEN_AI_REQUEST_MODEL] = str(requested)
        values[attr.LLM_MODEL] = str(requested)
    if served:
        values[attr.GEN_AI_RESPONSE_MODEL] = str(served)
        values[attr.LLM_MODEL] = str(served)
    span.set_attributes(values)


def record_error(span: Span, exc: BaseException) -> None:
    """HTTP status and error type of an SDK exception (``error.type``, ``http.response.status_code``)."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    values: dict[str, Any] = {attr.ERROR_TYPE: type(exc).__qualname__}
    if isinstance(status, int):
        values[attr.HTTP_STATUS_CODE] = status
    span.set_attributes(values)
