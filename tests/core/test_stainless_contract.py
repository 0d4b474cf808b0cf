"""The shared Stainless shapes' contract (``tracekit._llm._stainless``), against fake SDK
objects and no SDK: stream managers (``__enter__`` sends the request), helper streams
(``until_done()`` / ``get_final_*()`` / ``text_stream`` drain through the proxy), raw and
streaming responses (``parse()`` / ``close()`` unread). However each ends, the call's span
ends exactly once, and the app sees the SDK's own objects, values and errors."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tracekit import _llm
from tracekit._llm import _stainless as stainless
from tracekit.testing import SpanCapture

_MODULE = "tk_fake_stainless_sdk"
CHUNKS = ["a", "meta", "b"]
STREAM_KEYS = ("tracekit.stream.end_reason", "tracekit.stream.chunks", "tracekit.stream.incomplete")


class Boom(RuntimeError):
    pass


class FakeHTTP:
    """The ``httpx.Response`` under a stream or raw response: ``content`` raises until read."""

    def __init__(self, body: bytes = b"", read: bool = False) -> None:
        self.body, self.read = body, read

    @property
    def content(self) -> bytes:
        if not self.read:
            raise RuntimeError("ResponseNotRead")
        return self.body


class FakeStream:
    """``Stream``: ``__next__`` over one internal iterator, ``response``, ``close``, ``with``."""

    def __init__(self, chunks: list[str], fail_after: int | None = None) -> None:
        self.response = FakeHTTP()
        self.closed = False
        self._iterator = self._events(chunks, fail_after)

    def _events(self, chunks: list[str], fail_after: int | None) -> Iterator[str]:
        for i, chunk in enumerate(chunks):
            if i == fail_after:
                raise Boom("stream broke")
            yield chunk

    def __next__(self) -> str:
        return next(self._iterator)

    def __iter__(self) -> Iterator[str]:
        yield from self._iterator

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True


class FakeHelperStream(FakeStream):
    """``MessageStream``-like: its helpers iterate the *real* stream, past any proxy."""

    def __init__(self, chunks: list[str], returns_self: bool = True) -> None:
        super().__init__(chunks)
        self.returns_self = returns_self
        self.text_stream = (c for c in self if c != "meta")

    def until_done(self) -> FakeHelperStream | None:
        for _ in self:
            pass
        return self if self.returns_self else None

    def get_final_text(self) -> str:
        self.until_done()
        return "final"


class FakeManager:
    """A stream manager: the request (the patched ``create``) leaves at ``__enter__``."""

    def __init__(self, client: Client, fail: bool) -> None:
        self.client, self.fail = client, fail
        self.stream: Any = None

    def __enter__(self) -> FakeHelperStream:
        self.client.create(stream=True)  # a nested patched call: no second span
        if self.fail:
            raise Boom("connection refused")
        self.stream = FakeHelperStream(CHUNKS, returns_self=self.client.returns_self)
        return self.stream

    def __exit__(self, *exc: Any) -> None:
        self.stream.close()


class FakeAsyncStream:
    """``AsyncStream``; ``hang_after`` waits forever there (to cancel)."""

    def __init__(self, chunks: list[str], hang_after: int | None = None) -> None:
        self.response = FakeHTTP()
        self.closed = False
        self._iterator = self._events(chunks, hang_after)

    async def _events(self, chunks: list[str], hang_after: int | None) -> AsyncIterator[str]:
        for i, chunk in enumerate(chunks):
            if i == hang_after:
                await asyncio.Event().wait()
            yield chunk

    async def __anext__(self) -> str:
        return await self._iterator.__anext__()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._iterator

    async def close(self) -> None:
        self.closed = True


class FakeAsyncHelperStream(FakeAsyncStream):
    def __init__(self, chunks: list[str], hang_after: int | None = None) -> None:
        super().__init__(chunks, hang_after)
        self.text_stream = self._text()

    async def _text(self) -> AsyncIterator[str]:
        async for chunk in self._iterator:
            if chunk != "meta":
                yield chunk

    async def until_done(self) -> FakeAsyncHelperStream:
        async for _ in self._iterator:
            pass
        return self

    async def get_final_text(self) -> str:
        await self.until_done()
        return "final"


class FakeAsyncManager:
    def __init__(self, client: Client, fail: bool, hang_after: int | None) -> None:
        self.client, self.fail, self.hang_after = client, fail, hang_after
        self.stream: Any = None

    async def __aenter__(self) -> FakeAsyncHelperStream:
        await self.client.acreate(stream=True)
        if self.fail:
            raise Boom("connection refused")
        self.stream = FakeAsyncHelperStream(CHUNKS, self.hang_after)
        return self.stream

    async def __aexit__(self, *exc: Any) -> None:
        await self.stream.close()


class FakeAPIResponse:
    """``APIResponse`` / ``LegacyAPIResponse``: ``parse()`` (cached) gives the result or a stream."""

    def __init__(self, stream: bool, read: bool, fail: bool = False) -> None:
        self.http_response = FakeHTTP(b'{"text": "hi"}', read=read)
        self.is_stream, self.fail, self.closed = stream, fail, False
        self._parsed: Any = None

    def parse(self) -> Any:
        if self.fail:
            raise Boom("bad body")
        if self._parsed is None:
            self._parsed = FakeStream(CHUNKS) if self.is_stream else {"text": "hi"}
        return self._parsed

    def iter_lines(self) -> Iterator[str]:
        yield from ("line 1", "line 2")

    def close(self) -> None:
        self.closed = True


class FakeAsyncAPIResponse(FakeAPIResponse):
    async def parse(self) -> Any:  # type: ignore[override]
        if self.fail:
            raise Boom("bad body")
        if self._parsed is None:
            self._parsed = FakeAsyncStream(CHUNKS) if self.is_stream else {"text": "hi"}
        return self._parsed

    async def close(self) -> None:  # type: ignore[override]
        self.closed = True


def _text_of(event: Any) -> str | None:
    return None if event == "meta" else str(event)


HELPER = stainless.StreamHelper(("get_final_text",), "text_stream", _text_of)


class FakeEndpoint(_llm.Endpoint):
    provider = "fake"

    def __init__(self, helper: stainless.StreamHelper | None = None) -> None:
        self.stream_helper = helper

    def on_request(self, call: _llm.Call, instance: Any, args: tuple[Any, ...], kwargs: Any) -> None:
        call.state["stream"] = self.stream_helper is not None or kwargs.get("stream") is True

    def wrap(self, call: _llm.Call, result: Any) -> Any:
        return stainless.wrap(call, result, self.stream_helper)

    def on_response(self, call: _llm.Call, result: Any) -> None:
        if stainless.is_api_response(result):
            result = result.parse()
        if result is not None:
            call.span.set_attribute("fake.output", json.dumps(result))

    def on_stream_end(self, call: _llm.Call, stream: Any, complete: bool) -> None:
        call.span.set_attribute("fake.text", "".join(call.chunks))

    def inject_headers(self, instance: Any, kwargs: dict[str, Any], headers: Any) -> dict[str, Any] | None:
        return None


class Client:
    returns_self = True

    def create(self, stream: bool = False) -> Any:
        return FakeStream(CHUNKS) if stream else {"text": "hi"}

    async def acreate(self, stream: bool = False) -> Any:
        return FakeAsyncStream(CHUNKS) if stream else {"text": "hi"}

    def stream(self, fail: bool = False) -> FakeManager:
        return FakeManager(self, fail)

    def astream(self, fail: bool = False, hang_after: int | None = None) -> FakeAsyncManager:
        return FakeAsyncManager(self, fail, hang_after)  # a plain function, as anthropic's

    def raw(self, stream: bool = False, read: bool = False, fail: bool = False) -> FakeAPIResponse:
        return FakeAPIResponse(stream, read, fail)

    async def araw(self, stream: bool = False, fail: bool = False) -> FakeAsyncAPIResponse:
        return FakeAsyncAPIResponse(stream, False, fail)


@pytest.fixture
def client() -> Iterator[Client]:
    module = types.ModuleType(_MODULE)
    module.Client = Client  # type: ignore[attr-defined]
    sys.modules[_MODULE] = module
    plain, helper = FakeEndpoint(), FakeEndpoint(HELPER)
    table = (
        _llm.Patch(_MODULE, "Client", "create", plain),
        _llm.Patch(_MODULE, "Client", "acreate", plain, is_async=True),
        _llm.Patch(_MODULE, "Client", "stream", helper),
        _llm.Patch(_MODULE, "Client", "astream", helper),
        _llm.Patch(_MODULE, "Client", "raw", plain),
        _llm.Patch(_MODULE, "Client", "araw", plain, is_async=True),
    )
    _llm.apply(table)
    try:
        yield Client()
    finally:
        _llm.remove(table)
        del sys.modules[_MODULE]


def _span(captured: SpanCapture) -> Any:
    assert len(captured.readable_spans) == 1, [s.name for s in captured.readable_spans]
    return captured.readable_spans[0]


def _stream_ended(captured: SpanCapture, reason: str, chunks: int, error: bool = False) -> dict[str, Any]:
    span = _span(captured)
    a = dict(span.attributes)
    assert (a["tracekit.stream.end_reason"], a["tracekit.stream.chunks"]) == (reason, chunks)
    assert (a.get("tracekit.stream.incomplete") is True) == (reason != _llm.END_EXHAUSTED)
    assert a["fake.text"] == "".join(CHUNKS[:chunks])
    assert span.status.status_code.name == ("ERROR" if error else "OK")
    return a


def _call_ended(captured: SpanCapture, output: Any = None, error: bool = False) -> None:
    """Ended as a (non-streamed) call: no stream bookkeeping."""
    span = _span(captured)
    assert not [key for key in span.attributes if key in STREAM_KEYS]
    assert span.attributes.get("fake.output") == (None if output is None else json.dumps(output))
    assert span.status.status_code.name == ("ERROR" if error else "OK")
    assert any(e.name == "exception" for e in span.events) == error


# --- streams and stream managers ---------------------------------------------------------


def test_stream_is_read_through_its_own_next(client: Client, captured: SpanCapture) -> None:
    stream = client.create(stream=True)
    assert isinstance(stream, FakeStream) and stream._self_iter is stream.__wrapped__
    assert [next(stream), next(stream), next(stream)] == CHUNKS
    with pytest.raises(StopIteration):
        next(stream)
    _stream_ended(captured, _llm.END_EXHAUSTED, 3)


def test_manager_enter_iterate_exit(client: Client, captured: SpanCapture) -> None:
    manager = client.stream()
    assert isinstance(manager, FakeManager) and captured.readable_spans == []
    with manager as stream:
        assert isinstance(stream, FakeHelperStream)
        assert list(stream) == CHUNKS
    assert manager.__wrapped__.stream.closed
    _stream_ended(captured, _llm.END_EXHAUSTED, 3)  # the nested create() made no span


def test_manager_left_early_ends_closed(client: Client, captured: SpanCapture) -> None:
    with client.stream() as stream:
        assert next(stream) == "a"
    _stream_ended(captured, _llm.END_CLOSED, 1)


@pytest.mark.parametrize("is_async", [False, True])
def test_manager_enter_failure_ends_as_a_failed_call(client: Client, captured: SpanCapture, is_async: bool) -> None:
    async def aenter() -> None:
        async with client.astream(fail=True):
            pass

    with pytest.raises(Boom, match="connection refused"):
        if is_async:
            asyncio.run(aenter())
        else:
            with client.stream(fail=True):
                pass
    _call_ended(captured, error=True)


def test_manager_never_entered_ends_at_gc(client: Client, captured: SpanCapture) -> None:
    manager = client.stream()
    del manager
    gc.collect()
    _stream_ended(captured, _llm.END_ABANDONED, 0)


def test_helper_stream_dropped_ends_at_gc(client: Client, captured: SpanCapture) -> None:
    manager = client.stream()
    stream = manager.__enter__()
    assert next(stream) == "a"
    del stream
    gc.collect()
    assert captured.readable_spans == []  # the manager keeps its stream (and span) alive
    del manager
    gc.collect()
    _stream_ended(captured, _llm.END_ABANDONED, 1)


# --- helper streams ----------------------------------------------------------------------


def test_helper_get_final_drains_through_the_proxy(client: Client, captured: SpanCapture) -> None:
    with client.stream() as stream:
        assert stream.get_final_text() == "final"
        assert captured.readable_spans != []  # ended when the stream did, before the with-exit
    _stream_ended(captured, _llm.END_EXHAUSTED, 3)


@pytest.mark.parametrize("returns_self", [True, False])
def test_helper_until_done_returns_what_the_sdk_does(client: Client, captured: SpanCapture, returns_self: bool) -> None:
    client.returns_self = returns_self  # openai's returns the stream, anthropic's None
    with client.stream() as stream:
        assert stream.until_done() is (stream if returns_self else None)
    _stream_ended(captured, _llm.END_EXHAUSTED, 3)


def test_helper_text_stream(client: Client, captured: SpanCapture) -> None:
    with client.stream() as stream:
        assert stream.text_stream is stream.text_stream  # one iterator, as the SDK's
        assert list(stream.text_stream) == ["a", "b"]
    _stream_ended(captured, _llm.END_EXHAUSTED, 3)  # every event seen, not only the text


def test_helper_undeclared_attributes_are_the_streams_own(client: Client, captured: SpanCapture) -> None:
    with client.stream() as stream:
        assert stream.returns_self is True and not hasattr(stream, "get_final_message")
        assert captured.readable_spans == []  # nothing drained
    _stream_ended(captured, _llm.END_CLOSED, 0)


def test_async_helper_get_final_and_text_stream(client: Client, captured: SpanCapture) -> None:
    async def main() -> None:
        async with client.astream() as stream:
            assert isinstance(stream, FakeAsyncHelperStream)
            assert [text async for text in stream.text_stream] == ["a", "b"]
        async with client.astream() as stream:
            assert await stream.get_final_text() == "final"
            assert await stream.until_done() is stream

    asyncio.run(main())
    assert [
        (s.attributes["tracekit.stream.end_reason"], s.attributes["tracekit.stream.chunks"]) for s in captured.readable_spans
    ] == [
        (_llm.END_EXHAUSTED, 3),
        (_llm.END_EXHAUSTED, 3),
    ]


def test_async_helper_cancelled(client: Client, captured: SpanCapture) -> None:
    async def consume() -> None:
        async with client.astream(hang_after=1) as stream:
            async for _ in stream:
                pass

    async def main() -> None:
        task = asyncio.ensure_future(consume())
        for _ in range(20):  # let it read "a" and hang on the next event
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    _stream_ended(captured, _llm.END_CANCELLED, 1, error=True)


# --- raw and streaming responses -----------------------------------------------------------


def test_raw_response_read_body_is_a_finished_call(client: Client, captured: SpanCapture) -> None:
    raw = client.raw(read=True)  # with_raw_response: the SDK read the body already
    assert type(raw) is FakeAPIResponse  # no proxy: nothing more to come
    _call_ended(captured, output={"text": "hi"})


def test_streaming_response_parse_records_then(client: Client, captured: SpanCapture) -> None:
    response = client.raw()
    assert isinstance(response, FakeAPIResponse) and captured.readable_spans == []
    assert response.parse() is response.parse()  # the SDK's cached result, recorded once
    response.close()
    _call_ended(captured, output={"text": "hi"})


def test_streaming_response_closed_unread(client: Client, captured: SpanCapture) -> None:
    response = client.raw()
    assert list(response.iter_lines()) == ["line 1", "line 2"]  # passes through, unrecorded
    response.close()
    assert response.__wrapped__.closed
    _call_ended(captured)


def test_streaming_response_parse_failure(client: Client, captured: SpanCapture) -> None:
    with pytest.raises(Boom):
        client.raw(fail=True).parse()
    _call_ended(captured, error=True)


def test_streamed_response_parse_hands_the_stream_on(client: Client, captured: SpanCapture) -> None:
    response = client.raw(stream=True)
    stream = response.parse()
    assert isinstance(stream, FakeStream) and response.parse() is stream  # one proxy per stream
    assert list(stream) == CHUNKS
    response.close()
    _stream_ended(captured, _llm.END_EXHAUSTED, 3)


def test_streamed_response_closed_unread_or_failing(client: Client, captured: SpanCapture) -> None:
    client.raw(stream=True).close()
    _stream_ended(captured, _llm.END_CLOSED, 0)
    captured.clear()
    with pytest.raises(Boom):
        client.raw(stream=True, fail=True).parse()
    _stream_ended(captured, _llm.END_ERROR, 0, error=True)


def test_async_streaming_response(client: Client, captured: SpanCapture) -> None:
    async def main() -> None:
        response = await client.araw()
        assert await response.parse() == {"text": "hi"}
        await response.close()
        unread = await client.araw()
        await unread.close()
        streamed = await client.araw(stream=True)
        stream = await streamed.parse()
        assert isinstance(stream, FakeAsyncStream) and [c async for c in stream] == CHUNKS

    asyncio.run(main())
    spans = captured.readable_spans
    assert [s.attributes.get("fake.output") for s in spans] == ['{"text": "hi"}', None, None]
    assert [s.attributes.get("tracekit.stream.end_reason") for s in spans] == [None, None, _llm.END_EXHAUSTED]
    assert [s.status.status_code.name for s in spans] == ["OK", "OK", "OK"]
