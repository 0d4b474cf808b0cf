"""Stream proxies: the sync and async ``wrapt.ObjectProxy`` twins that see every chunk
of an SDK stream and end its call exactly once, however the stream ends."""

from __future__ import annotations

import time
import weakref
from typing import Any

import wrapt

from tracekit import _attributes as attr
from tracekit import _errors
from tracekit._llm._call import Call, _fail, _settle

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


class _StreamProxy(wrapt.ObjectProxy):  # type: ignore[misc,type-arg]
    """What the sync and async stream proxies share: the finalize-once state and the
    hooks providers call; the twins below add only their own iteration and closing."""

    def __init__(self, wrapped: Any, call: Call | None) -> None:
        super().__init__(wrapped)
        self._self_state = _StreamState(call, self)
        self._self_iter: Any = None
        self._self_owner = True

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


class SyncStreamProxy(_StreamProxy):
    """Wraps an SDK stream: looks and behaves exactly like it (``isinstance`` holds,
    every attribute passes through), sees every chunk, and ends the span exactly once.

    Providers subclass it to intercept helper methods that consume the stream
    internally (``get_final_completion()`` …): call :meth:`_tk_finalize` there.
    """

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

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__wrapped__.__reduce_ex__(protocol)


class AsyncStreamProxy(_StreamProxy):
    """The async twin of :class:`SyncStreamProxy`."""

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


def proxy_stream(call: Call, stream: Any, proxy_class: type | None = None) -> Any:
    """Wrap ``stream`` so that ``call``'s span ends with it. Picks the async twin for an
    async iterable unless ``proxy_class`` is given."""
    if proxy_class is None:
        proxy_class = AsyncStreamProxy if hasattr(stream, "__aiter__") else SyncStreamProxy
    return proxy_class(stream, call)
