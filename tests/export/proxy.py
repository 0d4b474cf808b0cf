"""A loopback HTTP proxy that injects faults in front of a server (tests only).

Each request to a faulted path takes the next planned action, else passes through:

* ``("status", code, headers)``: answer ``code`` without forwarding (5xx, 429 + Retry-After, 400);
* ``("slow", seconds)``: forward, but answer only after ``seconds``;
* ``("drop",)``: close the connection without answering;
* ``mode = "down"``: every request is dropped until ``mode = "up"``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

Action = tuple[Any, ...]


class FaultProxy:
    def __init__(self, upstream: str, faulted_prefix: str = "/v1/traces") -> None:
        self.upstream = upstream.rstrip("/")
        self.faulted_prefix = faulted_prefix
        self.plan: deque[Action] = deque()
        self.mode = "up"
        self.seen: list[tuple[float, str, str]] = []  # (time, path, outcome)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action: Action = ("pass",)
                with proxy._lock:
                    if proxy.mode == "down":
                        action = ("drop",)
                    elif self.path.startswith(proxy.faulted_prefix) and proxy.plan:
                        action = proxy.plan.popleft()
                    proxy.seen.append((time.monotonic(), self.path, action[0]))
                if action[0] == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(2)
                    except OSError:
                        pass
                    return
                if action[0] == "status":
                    payload = b'{"error_code": "INJECTED", "message": "injected by the test proxy"}'
                    self.send_response(action[1])
                    for key, value in (action[2] if len(action) > 2 else {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
                upstream = requests.request(
                    self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=120, allow_redirects=False
                )
                if action[0] == "slow":
                    time.sleep(action[1])
                content = upstream.content
                self.send_response(upstream.status_code)
                for key, value in upstream.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def outcomes(self, prefix: str = "/v1/traces") -> list[str]:
        with self._lock:
            return [o for _, p, o in self.seen if p.startswith(prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
