"""The SDK shapes that the Stainless-generated SDKs (openai, anthropic) share, proxied once.

Written against openai 3.63 / anthropic 2.17 and checked down to openai 1.66.0 /
anthropic 0.49.0 (the same shapes in every release). A provider declares only data --
a :class:`StreamHelper` naming its helper stream's ``get_final_*()`` getters and text
stream -- and calls :func:`wrap` from its ``Endpoint.wrap``. The shapes:

* **Streams** (``create(stream=True)``: ``Stream`` / ``AsyncStream``): the core proxy,
  reading the stream's own ``__next__`` / ``__anext__`` (``AsyncStream.__aiter__`` is an
  async generator; one left suspended by a ``break`` would be finalized by the event
  loop later, maybe after it closed).
* **Stream managers** (``chat.completions.stream()``, ``responses.stream()``,
  ``messages.stream()``): the request leaves only at ``__enter__`` (it calls the patched
  ``create``), so the manager is the traced call: ``__enter__`` runs with nested calls
  suppressed (one span) and hands its helper stream on, proxied on the same call. A
  failing ``__enter__`` ends the span as a failed call (no stream existed).
* **Helper streams** (``ChatCompletionStream``, ``ResponseStream``, ``MessageStream``):
  ``until_done()``, ``get_final_*()`` and ``text_stream`` iterate the *real* stream
  internally, past any proxy; the proxy drains through itself first, so every event is
  seen and the span ends when the stream does.
* **Raw responses** (``BaseAPIResponse`` / ``LegacyAPIResponse``): ``with_raw_response``
  reads the body at once (a non-streamed one is a finished response; the provider's
  ``on_response`` reads it); ``with_streaming_response`` (and a streamed raw response)
  is read when the app calls ``parse()``: the proxy records the parsed result then, or
  hands the parsed stream on; ``close()`` unread ends the span (``iter_lines()`` /
  ``iter_bytes()`` pass through unrecorded).

Each proxy shares one finalize-once state with the proxy it came from
(``_tk_handoff``): whichever ends first ends the span.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from tracekit._llm._call import Call, nested_calls_suppressed
from tracekit._llm._streams import END_CANCELLED, END_CLOSED, END_ERROR, AsyncStreamProxy, SyncStreamProxy


@dataclass(frozen=True)
class StreamHelper:
    """What a provider declares about its ``.stream()`` helper's stream."""

    #: the helper's getters that consume the stream, e.g. ``("get_final_message",)``
    final_getters: tuple[str, ...]
    #: the attribute iterating only the stream's text (anthropic ``text_stream``), if any
    text_stream: str | None = None
    #: the text one event carries for :attr:`text_stream`, None for other events
    text_of: Callable[[Any], str | None] | None = None


def wrap(call: Call, result: Any, helper: StreamHelper | None = None) -> Any:
    """``Endpoint.wrap`` for a Stainless SDK: ``result`` itself when it is a finished
    response (the core then calls ``on_response``), else the proxy that ends the span.
    ``helper`` marks the endpoint as a ``.stream()`` helper returning a manager."""
    if helper is not None:
        if hasattr(result, "__aenter__"):
            return AsyncManagerProxy(result, call, helper)
        if hasattr(result, "__enter__"):
            return SyncManagerProxy(result, call, helper)
        return result
    if is_api_response(result):
        if call.state.get("stream") or not _body_read(result):
            if inspect.iscoroutinefunction(getattr(type(result), "parse", None)):
                return AsyncResponseProxy(result, call)
            return SyncResponseProxy(result, call)
        return result  # a read body: on_response records it now
    if _is_stream(result):
        return (AsyncEventStreamProxy if hasattr(result, "__anext__") else SyncEventStreamProxy)(result, call)
    return result


def is_api_response(obj: Any) -> bool:
    """A ``BaseAPIResponse`` / ``LegacyAPIResponse`` (``with_raw_response`` / ``with_streaming_response``)."""
    return hasattr(obj, "http_response") and hasattr(obj, "parse")


def _body_read(response: Any) -> bool:
    try:
        response.http_response.content  # noqa: B018 - httpx raises ResponseNotRead when unread
    except Exception:
        return False
    return True


def _is_stream(obj: Any) -> bool:
    """A ``Stream`` / ``AsyncStream`` (or a helper stream): an iterator over one HTTP response."""
    return hasattr(obj, "response") and (hasattr(type(obj), "__next__") or hasattr(type(obj), "__anext__"))


def _error_reason(exc: BaseException | None) -> str:
    if exc is None:
        return END_CLOSED
    return END_CANCELLED if type(exc).__name__ == "CancelledError" else END_ERROR


# --- streams and helper streams --------------------------------------------------------


class SyncEventStreamProxy(SyncStreamProxy):
    """``Stream`` (and a helper's stream): read through its own ``__next__``, which
    creates no extra generator that could be left open."""

    def __init__(self, wrapped: Any, call: Call | None) -> None:
        super().__init__(wrapped, call)
        if hasattr(type(wrapped), "__next__"):
            self._self_iter = wrapped


class AsyncEventStreamProxy(AsyncStreamProxy):
    """``AsyncStream`` (and a helper's stream): read through its own ``__anext__``."""

    def __init__(self, wrapped: Any, call: Call | None) -> None:
        super().__init__(wrapped, call)
        if hasattr(type(wrapped), "__anext__"):
            self._self_iter = wrapped


def _helper_attribute(proxy: Any, name: str, consume: Callable[..., Any], text: Callable[[], Any]) -> Any:
    """A helper stream's attribute ``name``: a declared getter drains through the proxy
    first, the declared text stream is one generator over the proxy, anything else is
    the stream's own."""
    helper: StreamHelper | None = proxy._self_helper
    if helper is not None and name in helper.final_getters:
        return partial(consume, name)
    if helper is not None and name == helper.text_stream and helper.text_of is not None:
        if proxy._self_text is None:  # one generator per stream, as the SDK's attribute is one
            proxy._self_text = text()
        return proxy._self_text
    return getattr(proxy.__wrapped__, name)


class SyncHelperStreamProxy(SyncEventStreamProxy):
    """A helper stream (``ChatCompletionStream``, ``ResponseStream``, ``MessageStream``)."""

    _self_helper: StreamHelper | None = None
    _self_text: Any = None

    def until_done(self) -> Any:
        for _ in self:
            pass
        done = self.__wrapped__.until_done()  # drains nothing more; returns Self (openai) or None (anthropic)
        return self if done is self.__wrapped__ else done

    def __getattr__(self, name: str) -> Any:
        return _helper_attribute(self, name, self._tk_consume, self._tk_text)

    def _tk_consume(self, getter: str, *args: Any, **kwargs: Any) -> Any:
        self.until_done()
        return getattr(self.__wrapped__, getter)(*args, **kwargs)

    def _tk_text(self) -> Iterator[str]:
        text_of = self._self_helper.text_of if self._self_helper is not None else None
        for event in self:
            text = text_of(event) if text_of is not None else None
            if text is not None:
                yield text


class AsyncHelperStreamProxy(AsyncEventStreamProxy):
    """The async twin of :class:`SyncHelperStreamProxy`."""

    _self_helper: StreamHelper | None = None
    _self_text: Any = None

    async def until_done(self) -> Any:
        async for _ in self:
            pass
        done = await self.__wrapped__.until_done()
        return self if done is self.__wrapped__ else done

    def __getattr__(self, name: str) -> Any:
        return _helper_attribute(self, name, self._tk_consume, self._tk_text)

    async def _tk_consume(self, getter: str, *args: Any, **kwargs: Any) -> Any:
        await self.until_done()
        return await getattr(self.__wrapped__, getter)(*args, **kwargs)

    async def _tk_text(self) -> AsyncIterator[str]:
        text_of = self._self_helper.text_of if self._self_helper is not None else None
        async for event in self:
            text = text_of(event) if text_of is not None else None
            if text is not None:
                yield text


# --- stream managers ---------------------------------------------------------------------


def _entered(manager: Any, stream: Any, proxy_class: type) -> Any:
    call = manager._self_state.call
    if call is not None:
        call.state["helper"] = stream  # the SDK's helper keeps the accumulated snapshot: read at the end
    proxy = manager._tk_handoff(stream, proxy_class)
    proxy._self_helper = manager._self_helper
    # kept so that the stream lives (and its span stays open) while the manager does
    manager._self_stream = proxy
    return proxy


class SyncManagerProxy(SyncStreamProxy):
    """A stream helper's manager: ``__enter__`` sends the request."""

    def __init__(self, wrapped: Any, call: Call | None, helper: StreamHelper | None = None) -> None:
        super().__init__(wrapped, call)
        self._self_helper = helper
        self._self_stream: Any = None

    def __enter__(self) -> Any:
        try:
            with nested_calls_suppressed(self._self_state.call):
                stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            self._tk_fail(exc)
            raise
        return _entered(self, stream, SyncHelperStreamProxy)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._tk_finalize(_error_reason(exc), exc)


class AsyncManagerProxy(AsyncStreamProxy):
    """The async twin of :class:`SyncManagerProxy`: ``__aenter__`` sends the request."""

    def __init__(self, wrapped: Any, call: Call | None, helper: StreamHelper | None = None) -> None:
        super().__init__(wrapped, call)
        self._self_helper = helper
        self._self_stream: Any = None

    async def __aenter__(self) -> Any:
        try:
            with nested_calls_suppressed(self._self_state.call):
                stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            self._tk_fail(exc)
            raise
        return _entered(self, stream, AsyncHelperStreamProxy)

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._tk_finalize(_error_reason(exc), exc)


# --- raw responses -----------------------------------------------------------------------


def _parsed(proxy: Any, parsed: Any) -> Any:
    """What ``parse()`` hands the app: a parsed stream proxied on the same call (the
    SDK caches ``parse()``: one proxy for that one stream), or the parsed response,
    recorded now."""
    if _is_stream(parsed):
        known = proxy._self_parsed
        if known is None or known.__wrapped__ is not parsed:
            proxy_class = AsyncEventStreamProxy if hasattr(parsed, "__anext__") else SyncEventStreamProxy
            known = proxy._self_parsed = proxy._tk_handoff(parsed, proxy_class)
        return known
    proxy._tk_respond(parsed)
    return parsed


def _end_unread(proxy: Any, exc: BaseException | None = None) -> None:
    """The response was closed, or failed to parse, before its data was read: a stream
    ends as one (closed / failed), a plain response as a call that returned nothing."""
    call = proxy._self_state.call
    if call is None:
        return
    if call.state.get("stream"):
        proxy._tk_finalize(_error_reason(exc), exc)
    else:
        proxy._tk_respond(None, exc)


class SyncResponseProxy(SyncStreamProxy):
    """A raw HTTP response read after the call returned: ``with_streaming_response``
    (sync), or a streamed ``with_raw_response`` (its ``LegacyAPIResponse.parse()`` is
    synchronous for the async clients too)."""

    def __init__(self, wrapped: Any, call: Call | None) -> None:
        super().__init__(wrapped, call)
        self._self_parsed: Any = None

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            parsed = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            _end_unread(self, exc)
            raise
        return _parsed(self, parsed)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            _end_unread(self)


class AsyncResponseProxy(AsyncStreamProxy):
    """The async twin of :class:`SyncResponseProxy` (``AsyncAPIResponse``: ``parse()`` and
    ``close()`` are coroutines)."""

    def __init__(self, wrapped: Any, call: Call | None) -> None:
        super().__init__(wrapped, call)
        self._self_parsed: Any = None

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            parsed = await self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            _end_unread(self, exc)
            raise
        return _parsed(self, parsed)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            _end_unread(self)
