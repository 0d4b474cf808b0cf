"""The stream proxies' contract (``tracekit._llm.SyncStreamProxy`` / ``AsyncStreamProxy``),
against fake streams and no SDK: however a stream ends -- exhausted, failed, closed, left
by ``with``, cancelled, dropped -- its call's span ends exactly once, with the chunks
seen and why it ended, and the app sees the stream's own chunks and errors unchanged."""

from __future__ import annotations

import asyncio
import gc
import sys
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tracekit import _llm
from tracekit.testing import SpanCapture

_MODULE = "tk_fake_stream_sdk"


class Boom(RuntimeError):
    pass


class FakeStream:
    """A sync SDK stream: iterable, a context manager, closable; fails after ``fail_after``."""

    def __init__(self, chunks: list[str], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.closed = False

    def __iter__(self) -> Iterator[str]:
        for i, chunk in enumerate(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise Boom("stream broke")
            yield chunk

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


class FakeAsyncStream:
    """The async twin of :class:`FakeStream`; ``hang_after`` waits forever there (to cancel)."""

    def __init__(self, chunks: list[str], fail_after: int | None = None, hang_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.hang_after = hang_after
        self.closed = False

    async def _gen(self) -> AsyncIterator[str]:
        for i, chunk in enumerate(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise Boom("stream broke")
            if self.hang_after is not None and i == self.hang_after:
                await asyncio.Event().wait()
            yield chunk

    def __aiter__(self) -> AsyncIterator[str]:
        return self._gen()

    async def __aenter__(self) -> FakeAsyncStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True


class StreamEndpoint(_llm.Endpoint):
    provider = "fake"

    def wrap(self, call: _llm.Call, result: Any) -> Any:
        return _llm.proxy_stream(call, result)

    def on_stream_end(self, call: _llm.Call, stream: Any, complete: bool) -> None:
        call.span.set_attribute("fake.text", "".join(call.chunks))

    def inject_headers(self, instance: Any, kwargs: dict[str, Any], headers: Any) -> dict[str, Any] | None:
        return None  # the fake SDK takes no headers


class Client:
    def stream(self, stream: Any) -> Any:
        return stream

    async def astream(self, stream: Any) -> Any:
        return stream


@pytest.fixture
def client() -> Iterator[Client]:
    module = types.ModuleType(_MODULE)
    module.Client = Client  # type: ignore[attr-defined]
    sys.modules[_MODULE] = module
    endpoint = StreamEndpoint()
    table = (_llm.Patch(_MODULE, "Client", "stream", endpoint), _llm.Patch(_MODULE, "Client", "astream", endpoint, is_async=True))
    _llm.apply(table)
    try:
        yield Client()
    finally:
        _llm.remove(table)
        del sys.modules[_MODULE]


def _one_span(captured: SpanCapture) -> Any:
    assert len(captured.readable_spans) == 1, [s.name for s in captured.readable_spans]
    return captured.readable_spans[0]


def _assert_ended(captured: SpanCapture, reason: str, chunks: int, text: str, error: bool = False) -> None:
    span = _one_span(captured)
    a = span.attributes
    assert a["tracekit.stream.end_reason"] == reason
    assert a["tracekit.stream.chunks"] == chunks
    assert a["fake.text"] == text
    assert (a.get("tracekit.stream.incomplete") is True) == (reason != _llm.END_EXHAUSTED)
    assert span.status.status_code.name == ("ERROR" if error else "OK")
    assert any(e.name == "exception" for e in span.events) == error


def test_sync_exhausted(client: Client, captured: SpanCapture) -> None:
    stream = client.stream(FakeStream(["a", "b", "c"]))
    assert isinstance(stream, FakeStream)  # the proxy passes for the SDK's type
    assert list(stream) == ["a", "b", "c"]
    _assert_ended(captured, _llm.END_EXHAUSTED, 3, "abc")


def test_sync_error_reaches_the_app_unchanged(client: Client, captured: SpanCapture) -> None:
    stream = client.stream(FakeStream(["a", "b", "c"], fail_after=2))
    seen = []
    with pytest.raises(Boom, match="stream broke"):
        for chunk in stream:
            seen.append(chunk)
    assert seen == ["a", "b"]
    _assert_ended(captured, _llm.END_ERROR, 2, "ab", error=True)


def test_sync_close_midway(client: Client, captured: SpanCapture) -> None:
    fake = FakeStream(["a", "b", "c"])
    stream = client.stream(fake)
    assert next(iter(stream)) == "a"
    stream.close()
    stream.close()  # a second close ends nothing twice
    assert fake.closed
    _assert_ended(captured, _llm.END_CLOSED, 1, "a")


def test_sync_with_block(client: Client, captured: SpanCapture) -> None:
    fake = FakeStream(["a", "b"])
    with client.stream(fake) as stream:
        assert next(iter(stream)) == "a"
    assert fake.closed
    _assert_ended(captured, _llm.END_CLOSED, 1, "a")


def test_sync_with_block_left_by_an_error(client: Client, captured: SpanCapture) -> None:
    with pytest.raises(KeyError), client.stream(FakeStream(["a", "b"])) as stream:
        next(iter(stream))
        raise KeyError("app")
    _assert_ended(captured, _llm.END_ERROR, 1, "a", error=True)


def test_sync_dropped_unread_ends_at_gc(client: Client, captured: SpanCapture) -> None:
    stream = client.stream(FakeStream(["a", "b"]))
    next(iter(stream))
    del stream
    gc.collect()
    _assert_ended(captured, _llm.END_ABANDONED, 1, "a")


def test_sync_exhausted_then_closed_ends_once(client: Client, captured: SpanCapture) -> None:
    with client.stream(FakeStream(["a"])) as stream:
        assert list(stream) == ["a"]
    del stream
    gc.collect()
    _assert_ended(captured, _llm.END_EXHAUSTED, 1, "a")


def test_async_exhausted(client: Client, captured: SpanCapture) -> None:
    async def main() -> list[str]:
        stream = await client.astream(FakeAsyncStream(["a", "b"]))
        assert isinstance(stream, FakeAsyncStream)
        return [chunk async for chunk in stream]

    assert asyncio.run(main()) == ["a", "b"]
    _assert_ended(captured, _llm.END_EXHAUSTED, 2, "ab")


def test_async_error(client: Client, captured: SpanCapture) -> None:
    async def main() -> None:
        stream = await client.astream(FakeAsyncStream(["a", "b"], fail_after=1))
        async for _ in stream:
            pass

    with pytest.raises(Boom):
        asyncio.run(main())
    _assert_ended(captured, _llm.END_ERROR, 1, "a", error=True)


def test_async_close_and_with(client: Client, captured: SpanCapture) -> None:
    async def main() -> None:
        fake = FakeAsyncStream(["a", "b"])
        async with await client.astream(fake) as stream:
            await stream.__anext__()
        assert fake.closed
        other = await client.astream(FakeAsyncStream(["x"]))
        await other.close()

    asyncio.run(main())
    spans = captured.readable_spans
    assert [(s.attributes["tracekit.stream.end_reason"], s.attributes["tracekit.stream.chunks"]) for s in spans] == [
        (_llm.END_CLOSED, 1),
        (_llm.END_CLOSED, 0),
    ]


def test_async_cancelled(client: Client, captured: SpanCapture) -> None:
    async def consume() -> None:
        stream = await client.astream(FakeAsyncStream(["a", "b"], hang_after=1))
        async for _ in stream:
            pass

    async def main() -> None:
        task = asyncio.ensure_future(consume())
        for _ in range(20):  # let it read "a" and hang on the next chunk
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    span = _one_span(captured)
    assert span.attributes["tracekit.stream.end_reason"] == _llm.END_CANCELLED
    assert span.attributes["tracekit.stream.chunks"] == 1
    assert span.attributes["fake.text"] == "a"


def test_async_dropped_unread_ends_at_gc(client: Client, captured: SpanCapture) -> None:
    async def main() -> None:
        stream = await client.astream(FakeAsyncStream(["a", "b"]))
        await stream.__anext__()
        del stream
        gc.collect()

    asyncio.run(main())
    _assert_ended(captured, _llm.END_ABANDONED, 1, "a")
