"""HTTP adapter: a stdlib ``ThreadingHTTPServer`` in a daemon thread on 127.0.0.1."""

from __future__ import annotations

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from ._app import FakeLLM
from ._model import FakeRequest, FakeResponse
from ._scenarios import ScenarioOptions

__all__ = ["FakeLLMServer"]

SSEFraming = Literal["chunked", "close"]


class _HTTPServer(ThreadingHTTPServer):
    # Handler threads are daemons and are not joined on close: an idle
    # keep-alive connection would otherwise make stop() wait for the client.
    daemon_threads = True
    block_on_close = False
    # The default backlog of 5 makes a burst of 64 concurrent connects hit SYN
    # retries (a 1 s stall each); real servers use far more.
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, app: FakeLLM, framing: SSEFraming) -> None:
        self.app = app
        self.framing: SSEFraming = framing
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client resets its connection; report anything else."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)) or self.stopping.is_set():
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "FakeLLM/1.0"

    def setup(self) -> None:
        super().setup()
        # SSE events are small writes spaced in time: without NODELAY, Nagle plus
        # delayed ACKs add ~40 ms to each one and distort time-to-first-token.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the client went away first
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log on stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        url = urlsplit(self.path)
        request = FakeRequest.build(
            self.command,
            url.path,
            dict(parse_qsl(url.query, keep_blank_values=True)),
            list(self.headers.items()),
            self._read_body(),
        )
        response = self.server.app.handle(request)
        try:
            if response.status == 0:
                self._drop()
            elif response.chunks is None:
                self._send_whole(response)
            else:
                self._send_stream(response)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            # The client closed mid-answer (e.g. broke out of a stream): normal.
            self.close_connection = True

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False means stop now."""
        if seconds > 0:
            self.server.stopping.wait(seconds)
        return not self.server.stopping.is_set()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_whole(self, response: FakeResponse) -> None:
        if not self._wait(response.delay):
            return self._drop()
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _send_stream(self, response: FakeResponse) -> None:
        chunked = self.server.framing == "chunked"
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        for chunk in response.chunks or ():
            if not self._wait(chunk.delay):
                return self._drop()
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk.data), chunk.data))
            else:
                self.wfile.write(chunk.data)
        if response.end == "abort":
            # No terminating chunk: the client sees an incomplete chunked body.
            return self._drop()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class FakeLLMServer:
    """A fake OpenAI / Anthropic / Gemini server on ``127.0.0.1`` and a free port.

    Real SDK clients talk to it over HTTP/1.1; everything it received is kept
    in :attr:`requests`. Routing ignores path prefixes, so gateway-style base
    URLs (``/gateway/openai/v1``, ``/serving-endpoints``) work too.

    Example::

        from openai import OpenAI
        from tracekit.testing import FakeLLMServer

        with FakeLLMServer() as server:
            client = OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content == "Hello! This is the fake LLM server."
            assert server.last_request.json["model"] == "gpt-4o-mini"

    ``sse_framing="close"`` sends streams close-delimited (``Connection: close``,
    no ``Transfer-Encoding``) instead of chunked.
    """

    def __init__(
        self,
        scenario: str = "text",
        *,
        app: FakeLLM | None = None,
        sse_framing: SSEFraming = "chunked",
        **options: Any,
    ) -> None:
        self.app = app if app is not None else FakeLLM(scenario, **options)
        self._framing: SSEFraming = sse_framing
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeLLMServer:
        """Bind a free port and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer(self.app, self._framing)
        # A short poll interval keeps stop() fast (shutdown waits for one poll).
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm-server", daemon=True)
        thread.start()
        self._httpd, self._thread = httpd, thread
        return self

    def stop(self) -> None:
        """Stop serving, break open connections and release the port."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        httpd.stopping.set()  # wakes handlers sleeping between stream chunks
        httpd.shutdown()
        with httpd.connections_lock:
            open_connections = list(httpd.connections)
        for conn in open_connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._httpd is not None

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        """The bound port (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not started; use start() or `with FakeLLMServer() as server:`")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, prefix: str) -> str:
        """The server URL under a gateway-style path prefix, e.g. ``url_for("/gateway/openai/v1")``."""
        return self.url + "/" + prefix.strip("/") if prefix.strip("/") else self.url

    @property
    def openai_base_url(self) -> str:
        """``base_url`` for ``openai.OpenAI`` (``http://127.0.0.1:PORT/v1``)."""
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """``base_url`` for ``anthropic.Anthropic`` (the SDK adds ``/v1/messages``)."""
        return self.url

    @property
    def gemini_base_url(self) -> str:
        """``HttpOptions.base_url`` for ``google.genai.Client`` (genai adds ``/{api_version}/models/...``)."""
        return self.url

    # ------------------------------------------------------------------ app facade

    @property
    def requests(self) -> list[FakeRequest]:
        """A copy of the requests received so far, oldest first."""
        return self.app.requests

    @property
    def last_request(self) -> FakeRequest | None:
        """The most recent request, or None."""
        return self.app.last_request

    def clear(self) -> None:
        """Forget recorded requests and restart ids at 1."""
        self.app.clear()

    def reset(self) -> None:
        """Forget requests and return to the ``text`` scenario with default options."""
        self.app.reset()

    def set_scenario(self, name: str = "text", **options: Any) -> None:
        """Set the default scenario and its options (see ``ScenarioOptions``)."""
        self.app.set_scenario(name, **options)

    @property
    def scenario(self) -> str:
        """The default scenario name."""
        return self.app.scenario

    @property
    def options(self) -> ScenarioOptions:
        """The default scenario options."""
        return self.app.options

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer a request without HTTP (same as ``server.app.handle``)."""
        return self.app.handle(request)
