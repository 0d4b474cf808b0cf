"""A small loopback OTLP/HTTP receiver that keeps what it is sent (tests only)."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class OtlpReceiver:
    def __init__(self, fail_first: int = 0, delay: float = 0.0) -> None:
        self.requests: list[tuple[dict[str, str], ExportTraceServiceRequest]] = []
        self.fail_first = fail_first
        #: seconds to take before answering (after keeping the request): a slow server
        self.delay = delay
        #: never answer (until close): a hung server
        self.hang = False
        self._closed = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        self.send_response(503)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                message = ExportTraceServiceRequest()
                message.ParseFromString(body)
                with receiver._lock:
                    receiver.requests.append((dict(self.headers.items()), message))
                if receiver.hang:
                    receiver._closed.wait(300)
                    return
                if receiver.delay:
                    receiver._closed.wait(receiver.delay)
                payload = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[Any]:
        with self._lock:
            return [
                span
                for _, message in self.requests
                for resource_spans in message.resource_spans
                for scope in resource_spans.scope_spans
                for span in scope.spans
            ]

    def span_ids(self) -> list[str]:
        """Every delivered span's id (hex), once per delivery: duplicates show."""
        return [span.span_id.hex() for span in self.spans()]

    def close(self) -> None:
        self._closed.set()
        self.server.shutdown()
        self.server.server_close()
