"""Transport-independent request and response records of the fake LLM server.

The protocol modules turn a :class:`FakeRequest` into a :class:`FakeResponse`;
the HTTP adapter and the in-process httpx2 transport only move bytes. Keeping
the two apart is what lets benchmarks run the exact same responses with the
network excluded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["FakeRequest", "FakeResponse", "StreamChunk", "json_response", "sse_bytes"]

StreamEnd = Literal["complete", "abort"]


@dataclass(frozen=True)
class FakeRequest:
    """One request as it went over the wire, recorded by the fake server.

    ``headers`` has lower-cased names; ``json`` is the parsed body (``None`` when
    the body is empty or not JSON). ``provider``, ``endpoint``, ``scenario`` and
    ``stream`` say how the server understood the request, so tests can assert
    on routing as well as on content.

    Example::

        with FakeLLMServer() as server:
            OpenAI(base_url=server.openai_base_url, api_key="k").chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            assert server.last_request.json["model"] == "gpt-4o-mini"
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    json: Any = None
    provider: str | None = None
    endpoint: str | None = None
    scenario: str | None = None
    stream: bool = False

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes,
    ) -> FakeRequest:
        """Build a record from raw parts, lower-casing header names and parsing JSON."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                # Not JSON: keep the raw bytes only; routing will reject it with 400.
                parsed = None
        return cls(
            method=method.upper(),
            path=path,
            query=dict(query),
            headers={k.lower(): v for k, v in items},
            body=body,
            json=parsed,
        )

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (lossy), e.g. to search for markers."""
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class StreamChunk:
    """A piece of a streamed body, written after sleeping ``delay`` seconds."""

    data: bytes
    delay: float = 0.0


@dataclass(frozen=True)
class FakeResponse:
    """What the server answers: a whole ``body`` or a list of stream ``chunks``.

    For a stream, ``end`` says how it finishes: ``"complete"`` ends the body
    cleanly (whatever the protocol-level terminator did or did not say), while
    ``"abort"`` drops the connection mid-body so the client sees a broken
    transfer (an incomplete chunked body over HTTP, ``RemoteProtocolError`` in
    the in-process transport).
    """

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    chunks: Sequence[StreamChunk] | None = None
    end: StreamEnd = "complete"
    delay: float = 0.0
    """Seconds to wait before answering a non-streamed request."""

    @classmethod
    def drop(cls) -> FakeResponse:
        """Close the connection without sending any response."""
        return cls(status=0, end="abort")

    @property
    def is_stream(self) -> bool:
        """True when the body is sent as a stream of chunks."""
        return self.chunks is not None


def json_response(
    status: int,
    payload: Any,
    headers: Sequence[tuple[str, str]] = (),
    *,
    delay: float = 0.0,
) -> FakeResponse:
    """A JSON response with the given status and extra headers."""
    body = json.dumps(payload).encode()
    return FakeResponse(
        status=status,
        headers=[("content-type", "application/json"), *headers],
        body=body,
        delay=delay,
    )


def sse_bytes(data: Any, event: str | None = None) -> bytes:
    """Encode one server-sent event; ``data`` is JSON-encoded unless it is a str.

    Compact JSON on a single ``data:`` line, as the providers send it.
    """
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    prefix = f"event: {event}\n" if event is not None else ""
    return f"{prefix}data: {payload}\n\n".encode()
