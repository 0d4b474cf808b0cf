"""Reading bodies as they pass: content decoding, an incremental SSE parser, JSON.

Everything here works on a *copy* of the bytes the proxy forwards: the client always
gets the upstream's bytes unchanged; these only decide what the span records.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any


class Undecodable(Exception):
    """A body in an encoding this process cannot decode (e.g. ``br`` without brotli)."""


class Decoder:
    """Decodes ``Content-Encoding`` incrementally (identity, gzip, deflate; br and zstd
    when the ``brotli`` / ``zstandard`` packages are installed). Raises
    :class:`Undecodable` at construction for an encoding it cannot decode."""

    def __init__(self, encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip() and c.strip().lower() != "identity"]
        # codings are listed in the order they were applied: undo them in reverse
        self._steps = [_step(c) for c in reversed(codings)]

    def feed(self, data: bytes) -> bytes:
        for step in self._steps:
            data = step(data)
        return data


def _step(coding: str) -> Any:
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    if coding == "deflate":
        return _Deflate().feed
    if coding == "br":
        try:
            import brotli
        except ImportError:
            raise Undecodable(coding) from None
        return brotli.Decompressor().process
    if coding == "zstd":
        try:
            import zstandard
        except ImportError:
            raise Undecodable(coding) from None
        return zstandard.ZstdDecompressor().decompressobj().decompress
    raise Undecodable(coding)


class _Deflate:
    """``deflate`` is zlib-wrapped by the spec, raw in some servers: try both."""

    def __init__(self) -> None:
        self._obj: Any = None
        self._head = b""

    def feed(self, data: bytes) -> bytes:
        if self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            wrapped = (self._head[0] & 0x0F) == 8 and int.from_bytes(self._head[:2], "big") % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        out: bytes = self._obj.decompress(data)
        return out


def decode_body(data: bytes, encoding: str | None) -> bytes:
    """A whole body decoded (raises :class:`Undecodable` or ``zlib.error``)."""
    return Decoder(encoding).feed(data)


def load_json(data: bytes) -> Any:
    """JSON from bytes; None when the body is not JSON."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


class SSEParser:
    """Incremental ``text/event-stream`` parser (https://html.spec.whatwg.org/#event-stream-interpretation):
    feed bytes as they arrive, get ``(event, data)`` pairs as each event completes."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> Iterator[tuple[str, str]]:
        self._buffer += chunk
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return
            end, width = cut
            line = self._buffer[:end].decode("utf-8", "replace")
            self._buffer = self._buffer[end + width :]
            if not line:
                if self._data:
                    yield self._event, "\n".join(self._data)
                self._event, self._data = "", []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                self._event = value
            elif name == "data":
                self._data.append(value)

    def close(self) -> Iterator[tuple[str, str]]:
        """The last event when the body ended without its blank line."""
        if self._buffer:
            yield from self.feed(b"\n\n")
        elif self._data:
            yield from self.feed(b"\n")


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    cr, lf = buffer.find(b"\r"), buffer.find(b"\n")
    if cr == -1 and lf == -1:
        return None
    if cr != -1 and (lf == -1 or cr < lf):
        if cr + 1 == len(buffer):
            return None  # a \r\n may be split across chunks: wait for the next byte
        return (cr, 2) if buffer[cr + 1 : cr + 2] == b"\n" else (cr, 1)
    return lf, 1
