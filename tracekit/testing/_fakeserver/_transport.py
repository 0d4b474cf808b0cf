"""In-process httpx2 transports serving the fake LLM without sockets.

``httpx2`` comes with the provider SDKs (openai 3.54.0, anthropic 2.12.0 and
google-genai 3.4.0 all use it), so it is imported here only: importing the
rest of the fake server needs nothing beyond the stdlib.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx2

from ._app import FakeLLM
from ._model import FakeRequest, FakeResponse, StreamChunk

__all__ = ["AsyncFakeTransport", "FakeTransport"]


async def _sleep(seconds: float) -> None:
    # anyio (a dependency of every SDK here) sleeps under asyncio and trio alike.
    try:
        import anyio
    except ImportError:  # pragma: no cover - httpx2 without anyio
        import asyncio

        await asyncio.sleep(seconds)
    else:
        await anyio.sleep(seconds)


def _to_fake_request(request: httpx2.Request, body: bytes) -> FakeRequest:
    return FakeRequest.build(
        request.method,
        request.url.path,
        dict(request.url.params.multi_items()),
        list(request.headers.multi_items()),
        body,
    )


def _disconnected(request: httpx2.Request, during_body: bool) -> httpx2.RemoteProtocolError:
    # The same exception httpx2 raises when a real server drops the connection,
    # so SDKs map it exactly as they would over the network.
    message = (
        "peer closed connection without sending complete message body (incomplete chunked read)"
        if during_body
        else "Server disconnected without sending a response."
    )
    return httpx2.RemoteProtocolError(message, request=request)


class _SyncChunks(httpx2.SyncByteStream):
    def __init__(self, chunks: Sequence[StreamChunk], abort: bool, request: httpx2.Request) -> None:
        self._chunks = chunks
        self._abort = abort
        self._request = request
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if self._closed:
                return
            if chunk.delay > 0:
                time.sleep(chunk.delay)
            yield chunk.data
        if self._abort:
            raise _disconnected(self._request, during_body=True)

    def close(self) -> None:
        self._closed = True


class _AsyncChunks(httpx2.AsyncByteStream):
    def __init__(self, chunks: Sequence[StreamChunk], abort: bool, request: httpx2.Request) -> None:
        self._chunks = chunks
        self._abort = abort
        self._request = request
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            if self._closed:
                return
            if chunk.delay > 0:
                await _sleep(chunk.delay)
            yield chunk.data
        if self._abort:
            raise _disconnected(self._request, during_body=True)

    async def aclose(self) -> None:
        self._closed = True


def _headers(response: FakeResponse) -> list[tuple[str, str]]:
    return [*response.headers, ("server", "FakeLLM/1.0")]


class FakeTransport(httpx2.BaseTransport):
    """A sync httpx2 transport answering from a :class:`FakeLLM`, without sockets.

    Example::

        import httpx2
        from openai import OpenAI

        transport = FakeTransport()
        client = OpenAI(api_key="k", base_url="http://fake/v1",
                        http_client=httpx2.Client(transport=transport))
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert transport.last_request.path == "/v1/chat/completions"
    """

    def __init__(self, app: FakeLLM | None = None, *, scenario: str = "text", **options: Any) -> None:
        self.app = app if app is not None else FakeLLM(scenario, **options)

    @property
    def requests(self) -> list[FakeRequest]:
        """Requests the app received (shared with any server using the same app)."""
        return self.app.requests

    @property
    def last_request(self) -> FakeRequest | None:
        """The most recent request, or None."""
        return self.app.last_request

    def set_scenario(self, name: str = "text", **options: Any) -> None:
        """Set the app's default scenario."""
        self.app.set_scenario(name, **options)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Serve one request in the calling thread (delays are real sleeps)."""
        response = self.app.handle(_to_fake_request(request, request.read()))
        if response.status == 0:
            raise _disconnected(request, during_body=False)
        if response.chunks is None:
            if response.delay > 0:
                time.sleep(response.delay)
            return httpx2.Response(response.status, headers=_headers(response), content=response.body, request=request)
        stream = _SyncChunks(response.chunks, response.end == "abort", request)
        return httpx2.Response(response.status, headers=_headers(response), stream=stream, request=request)


class AsyncFakeTransport(httpx2.AsyncBaseTransport):
    """The async twin of :class:`FakeTransport`, for ``httpx2.AsyncClient``.

    Example::

        client = AsyncOpenAI(api_key="k", base_url="http://fake/v1",
                             http_client=httpx2.AsyncClient(transport=AsyncFakeTransport()))
    """

    def __init__(self, app: FakeLLM | None = None, *, scenario: str = "text", **options: Any) -> None:
        self.app = app if app is not None else FakeLLM(scenario, **options)

    @property
    def requests(self) -> list[FakeRequest]:
        """Requests the app received (shared with any server using the same app)."""
        return self.app.requests

    @property
    def last_request(self) -> FakeRequest | None:
        """The most recent request, or None."""
        return self.app.last_request

    def set_scenario(self, name: str = "text", **options: Any) -> None:
        """Set the app's default scenario."""
        self.app.set_scenario(name, **options)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Serve one request; delays are ``anyio`` sleeps so the event loop keeps running."""
        response = self.app.handle(_to_fake_request(request, await request.aread()))
        if response.status == 0:
            raise _disconnected(request, during_body=False)
        if response.chunks is None:
            if response.delay > 0:
                await _sleep(response.delay)
            return httpx2.Response(response.status, headers=_headers(response), content=response.body, request=request)
        stream = _AsyncChunks(response.chunks, response.end == "abort", request)
        return httpx2.Response(response.status, headers=_headers(response), stream=stream, request=request)
