"""Stream proxies for the anthropic SDK's streaming surfaces.

The core proxies (:class:`tracekit._llm.SyncStreamProxy` and its async twin) end the
span exactly once; these subclasses only route the SDK's extra ways of consuming a
stream through the proxy, so that every event is seen and every exit reaches the
one ``finalize``:

* ``messages.create(stream=True)`` returns a ``Stream`` / ``AsyncStream`` of raw
  events: the plain proxy, reading the stream's own ``__next__`` / ``__anext__``.
* ``messages.stream()`` returns a ``MessageStreamManager`` that sends the request
  only in ``__enter__`` and hands out a ``MessageStream``. Its ``text_stream``,
  ``until_done()``, ``get_final_message()`` and ``get_final_text()`` iterate the
  *real* stream object internally (anthropic 2.12.0, ``lib/streaming/_messages.py``),
  which a proxy would never see; the proxy re-implements them over itself, so the
  events still flow through it and the span ends when the stream does.
* ``with_raw_response`` / ``with_streaming_response`` return an ``APIResponse`` whose
  ``parse()`` builds the stream (or the Message) later.

Each proxy shares one finalize-once state with the proxy it came from
(``_tk_handoff``): whichever ends first ends the span.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from tracekit._llm import END_ERROR, AsyncStreamProxy, SyncStreamProxy, nested_calls_suppressed


def _is_text_delta(event: Any) -> bool:
    if getattr(event, "type", None) != "content_block_delta":
        return False
    return getattr(getattr(event, "delta", None), "type", None) == "text_delta"


# --- raw event streams --------------------------------------------------------------


class SyncEventStreamProxy(SyncStreamProxy):
    """``Stream[RawMessageStreamEvent]`` (and the helper's ``MessageStream``)."""

    def __init__(self, wrapped: Any, call: Any) -> None:
        super().__init__(wrapped, call)
        # Both SDK stream classes have __next__ over their one internal iterator:
        # reading it directly creates no extra generator that could be left open.
        if hasattr(type(wrapped), "__next__"):
            self._self_iter = wrapped


class AsyncEventStreamProxy(AsyncStreamProxy):
    """``AsyncStream[RawMessageStreamEvent]`` (and the helper's ``AsyncMessageStream``)."""

    def __init__(self, wrapped: Any, call: Any) -> None:
        super().__init__(wrapped, call)
        # AsyncStream.__aiter__ is an async generator: one left suspended by a
        # `break` would be finalized by the event loop later, maybe after it closed
        if hasattr(type(wrapped), "__anext__"):
            self._self_iter = wrapped


# --- the messages.stream() helper --------------------------------------------------------


class SyncMessageStreamProxy(SyncEventStreamProxy):
    """The ``MessageStream`` handed out by ``with client.messages.stream(...) as stream``."""

    def __init__(self, wrapped: Any, call: Any) -> None:
        super().__init__(wrapped, call)
        self._self_text: Iterator[str] | None = None

    @property
    def text_stream(self) -> Iterator[str]:
        # one generator per stream, as the SDK's attribute is one
        if self._self_text is None:
            self._self_text = self._tk_text()
        return self._self_text

    def _tk_text(self) -> Iterator[str]:
        for event in self:
            if _is_text_delta(event):
                yield event.delta.text

    def until_done(self) -> None:
        for _ in self:
            pass

    def get_final_message(self) -> Any:
        self.until_done()
        return self.__wrapped__.get_final_message()

    def get_final_text(self) -> Any:
        self.until_done()
        return self.__wrapped__.get_final_text()


class AsyncMessageStreamProxy(AsyncEventStreamProxy):
    """The ``AsyncMessageStream`` handed out by ``async with client.messages.stream(...)``."""

    def __init__(self, wrapped: Any, call: Any) -> None:
        super().__init__(wrapped, call)
        self._self_text: AsyncIterator[str] | None = None

    @property
    def text_stream(self) -> AsyncIterator[str]:
        if self._self_text is None:
            self._self_text = self._tk_text()
        return self._self_text

    async def _tk_text(self) -> AsyncIterator[str]:
        async for event in self:
            if _is_text_delta(event):
                yield event.delta.text

    async def until_done(self) -> None:
        async for _ in self:
            pass

    async def get_final_message(self) -> Any:
        await self.until_done()
        return await self.__wrapped__.get_final_message()

    async def get_final_text(self) -> Any:
        await self.until_done()
        return await self.__wrapped__.get_final_text()


def _remember_helper(proxy: Any, stream: Any) -> None:
    call = proxy._self_state.call
    if call is not None:
        # the SDK's MessageStream keeps the accumulated snapshot: read it at the end
        call.state["helper"] = stream


class SyncMessageStreamManagerProxy(SyncStreamProxy):
    """``MessageStreamManager``: the request leaves in ``__enter__``."""

    def __enter__(self) -> Any:
        try:
            with nested_calls_suppressed(self._self_state.call):
                stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            self._tk_fail(exc)
            raise
        _remember_helper(self, stream)
        # kept so that the stream lives (and its span stays open) while the manager does
        self._self_stream = self._tk_handoff(stream, SyncMessageStreamProxy)
        return self._self_stream


class AsyncMessageStreamManagerProxy(AsyncStreamProxy):
    """``AsyncMessageStreamManager``: the request leaves in ``__aenter__``."""

    async def __aenter__(self) -> Any:
        try:
            with nested_calls_suppressed(self._self_state.call):
                stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            self._tk_fail(exc)
            raise
        _remember_helper(self, stream)
        self._self_stream = self._tk_handoff(stream, AsyncMessageStreamProxy)
        return self._self_stream


# --- raw responses -----------------------------------------------------------------------


class SyncResponseProxy(SyncStreamProxy):
    """An ``APIResponse`` whose body is read after the call returned: a streamed
    ``with_raw_response`` call, or any ``with_streaming_response`` call."""

    def __init__(self, wrapped: Any, call: Any) -> None:
        super().__init__(wrapped, call)
        self._self_child: Any = None

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            self._tk_finalize(END_ERROR, exc)
            raise
        return _adopt(self, result, SyncEventStreamProxy)


class AsyncResponseProxy(AsyncStreamProxy):
    """The async twin of :class:`SyncResponseProxy`."""

    def __init__(self, wrapped: Any, call: Any) -> None:
        super().__init__(wrapped, call)
        self._self_child: Any = None

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            self._tk_finalize(END_ERROR, exc)
            raise
        return _adopt(self, result, AsyncEventStreamProxy)


def _adopt(proxy: Any, result: Any, stream_class: type) -> Any:
    child = proxy._self_child
    if child is not None:
        # parse() caches its result: the same stream again gets the same proxy
        return child if child.__wrapped__ is result else result
    if hasattr(result, "response") and (hasattr(result, "__next__") or hasattr(result, "__anext__")):
        proxy._self_child = proxy._tk_handoff(result, stream_class)
        return proxy._self_child
    proxy._tk_respond(result)
    return result
