"""The proxy's HTTP side (aiohttp server + client): forward every request unchanged,
stream every answer back as it arrives, hand a copy to the recorder.

What "unchanged" means here: the method, the raw path and query, the body bytes and
every header go upstream as they came, except the hop-by-hop headers (RFC 9110 §7.6.1:
they describe one connection, not the message) and ``Host`` (the upstream's). aiohttp
adds none of its own defaults (``Accept``, ``Accept-Encoding``, ``User-Agent``,
``Content-Type`` are skipped) and decompresses nothing: the client gets the upstream's
status, headers and body bytes, compressed or not, chunk by chunk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from tracekit import _errors, _llm
from tracekit._proxy import _routes
from tracekit._proxy._record import Recording, UpstreamError, _classes
from tracekit._proxy._wire import Undecodable, decode_body, load_json

logger = logging.getLogger("tracekit")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: session headers coding agents send, most specific first (Claude Code >= 2.1.86,
#: Codex CLI: ``session-id`` now, ``session_id`` before; OpenCode; generic ones)
SESSION_HEADERS = ("x-claude-code-session-id", "session-id", "session_id", "x-opencode-session", "x-session-id")
#: request bodies up to this size are accepted (a coding agent's context is a few MB at most)
MAX_REQUEST_BODY = 256 * 1024 * 1024


def _forward_headers(headers: Any, drop_extra: frozenset[str] = frozenset()) -> CIMultiDict[str]:
    named = {token.strip().lower() for value in headers.getall("connection", []) for token in value.split(",")}
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in named or lower in drop_extra:
            continue
        out.add(name, value)
    return out


def safe_url(url: str) -> str:
    """``url`` without user info and query: what may be recorded or logged."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")


def _error_body(code: str, message: str) -> bytes:
    # the OpenAI / Anthropic error shape: the SDKs show ``message`` to the user
    return json.dumps({"type": "error", "error": {"type": "tracekit_proxy_error", "code": code, "message": message}}).encode()


def _connection_error(name: str, status: int, message: str) -> UpstreamError:
    cls = _classes.get(name)
    if cls is None:
        cls = _classes[name] = type(name, (UpstreamError,), {"__module__": UpstreamError.__module__})
    exc = cls(message)
    exc.status_code = status
    return exc


class ProxyServer:
    """One proxy run: the listening server, the upstream client, the session id."""

    def __init__(
        self,
        upstream: str,
        *,
        session: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 600.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        #: the upstream without credentials or query (a gateway key may sit in either)
        self.shown_upstream = safe_url(self.upstream)
        self._upstream_url = URL(self.upstream)
        self.session_name = session
        self.run_id = f"proxy-{uuid.uuid4().hex[:12]}"
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=read_timeout)
        self._client: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: set by the runner: the SDK preload, which requests wait for (two threads
        #: importing one package at once can fail: openai 3.63 raised KeyError 'openai')
        self.ready: asyncio.Future[Any] | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the real port (``port=0`` picks a free one)."""
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, enable_cleanup_closed=True),
            auto_decompress=False,
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
            timeout=self._timeout,
            trust_env=True,  # an HTTPS_PROXY the user set applies to the upstream
        )
        app = web.Application(client_max_size=MAX_REQUEST_BODY)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        # auto_decompress=False: the request body goes upstream as the client encoded it;
        # handler_cancellation: a client that disconnects cancels its handler at once,
        # which closes the upstream request (the default waits for the next write)
        self._runner = web.AppRunner(app, access_log=None, auto_decompress=False, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        return self.port

    async def stop(self) -> None:
        """Stop listening, let handlers end (their spans with them), close the client."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _session(self, headers: Mapping[str, str]) -> tuple[str, str]:
        if self.session_name:
            return self.session_name, "--session"
        for name in SESSION_HEADERS:
            value = headers.get(name)
            if value:
                return value, f"header:{name}"
        return self.run_id, "run"

    def _recording(self, request: web.Request, body: bytes) -> Recording | None:
        try:
            encoding = request.headers.get("Content-Encoding")
            plain = decode_body(body, encoding) if encoding else body
        except (Undecodable, ValueError, OSError):
            return None  # a request body we cannot read (e.g. zstd without zstandard): untraced
        try:
            exchange = _routes.recognize(request.method, request.path, request.query, load_json(plain))
            if exchange is None:
                return None
            headers = {k.lower(): v for k, v in request.headers.items()}
            recording = Recording(exchange, load_json(plain), headers, self.shown_upstream, self._session(headers))
            return recording if recording.traced else None
        except Exception:
            _errors.report("proxy.recognize")
            return None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if self.ready is not None and not self.ready.done():
            await asyncio.shield(self.ready)
        recording = self._recording(request, body)
        client = self._client
        assert client is not None
        url = URL(self.upstream + request.rel_url.raw_path_qs, encoded=True)
        # Expect: 100-continue was answered by this server already (the body is read)
        headers = _forward_headers(request.headers, frozenset({"host", "content-length", "expect"}))
        try:
            upstream = await client.request(request.method, url, headers=headers, data=body or None, allow_redirects=False)
        except asyncio.CancelledError:
            if recording is not None:
                recording.finish(_llm.END_CANCELLED)
            raise
        except (asyncio.TimeoutError, aiohttp.ClientError, OSError) as exc:
            timeout = isinstance(exc, asyncio.TimeoutError)
            status = 504 if timeout else 502
            what = "did not answer in time" if timeout else "cannot be reached"
            message = f"tracekit proxy: upstream {self.shown_upstream} {what} ({type(exc).__name__}: {exc})"
            if recording is not None:
                name = "APITimeoutError" if timeout else "APIConnectionError"
                recording.finish(_llm.END_ERROR, _connection_error(name, status, message))
            logger.warning("%s", message)
            return web.Response(
                status=status,
                body=_error_body("upstream_timeout" if timeout else "upstream_unreachable", message),
                content_type="application/json",
            )
        return await self._relay(request, upstream, recording)

    async def _relay(
        self, request: web.Request, upstream: aiohttp.ClientResponse, recording: Recording | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        response.headers.extend(_forward_headers(upstream.headers))
        if recording is not None:
            recording.response_head(upstream.status, {k.lower(): v for k, v in upstream.headers.items()})
        try:
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
                if recording is not None:
                    recording.feed(chunk)
            await response.write_eof()
        except asyncio.CancelledError:
            # the client went away (handler cancelled): close the upstream request too
            upstream.close()
            if recording is not None:
                recording.finish(_llm.END_CLOSED)
            raise
        except (ConnectionResetError, aiohttp.ClientConnectionResetError) as exc:
            upstream.close()
            if recording is not None:
                if request.transport is None or request.transport.is_closing():
                    recording.finish(_llm.END_CLOSED)  # the client closed its side
                else:
                    recording.finish(_llm.END_ERROR, exc)
            return response
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            # the upstream broke off (cut, reset, too slow): the client must see a broken
            # body too, not a clean end -> drop its connection without the final chunk
            upstream.close()
            if recording is not None:
                recording.finish(_llm.END_ERROR, exc)
            if request.transport is not None:
                request.transport.abort()
            return response
        finally:
            upstream.release()
        if recording is not None:
            recording.finish()
        return response
