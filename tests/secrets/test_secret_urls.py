"""Credentials in a tracking URI or an OTLP endpoint are written nowhere (issue 9).

Each test plants secrets in every URL form (user information, query values, a
fragment) and then reads *everything* tracekit wrote -- every file under its home
(outbox entries decompressed), the log, ``tracekit status`` (text and JSON), error
messages, span attributes -- for them.
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import tracekit
from tracekit._cli import main
from tracekit._export.mlflow import MlflowExporter
from tracekit._export.otlp import OtlpConfig, OtlpExporter
from tracekit._redact import redact_text, redact_url
from tracekit.testing import SpanCapture

SECRETS = ("hunter2", "sk-live-1", "pw-otlp", "otlp-tok", "frag-secret", "bob", "alice")


class _Receiver:
    """A scripted OTLP/HTTP receiver: answers ``status`` and echoes the path it was asked
    for in its error body (as many servers do), and records every request."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                receiver.requests.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                body = b"" if receiver.status == 200 else json.dumps({"message": f"cannot take {self.path}"}).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def rejecting_receiver() -> Iterator[_Receiver]:
    receiver = _Receiver(400)
    yield receiver
    receiver.close()


@pytest.fixture
def accepting_receiver() -> Iterator[_Receiver]:
    receiver = _Receiver(200)
    yield receiver
    receiver.close()


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _everything_written(home: Path) -> str:
    """Every file under ``home`` as text; outbox entries with their gzipped bodies opened."""
    parts = []
    for path in sorted(home.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        parts.append(f"== {path.relative_to(home)}\n")
        parts.append(data.decode("utf-8", "replace"))
        if b"\n" in data and ".otlp" in path.name:
            try:
                parts.append(gzip.decompress(data[data.index(b"\n") + 1 :]).decode("utf-8", "replace"))
            except OSError:
                pass
    return "\n".join(parts)


def _assert_clean(where: str, text: str) -> None:
    found = [s for s in SECRETS if s in text]
    assert not found, f"{where} holds {found}:\n{text[:3000]}"


def test_credentials_in_the_tracking_uri_and_otlp_endpoint_are_written_nowhere(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    captured: SpanCapture,
    rejecting_receiver: _Receiver,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tracekit")
    dead = _dead_port()
    mlflow_uri = f"http://bob:hunter2@127.0.0.1:{dead}/?api_key=sk-live-1"
    otlp_endpoint = f"http://alice:pw-otlp@127.0.0.1:{rejecting_receiver.port}/v1/traces?token=otlp-tok#frag-secret"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", otlp_endpoint)
    monkeypatch.setenv("TRACEKIT_TRACKING_URI", mlflow_uri)
    tracekit.configure(experiment_id="1", export_retry_budget=0, export_timeout=2)

    with tracekit.start_span("work", inputs={"q": 1}):
        pass
    result = tracekit.flush(timeout=5)
    assert result.spilled == 1 and result.failed == 1  # MLflow down: outbox; OTLP refused: set aside
    with pytest.raises(RuntimeError) as read_error:
        tracekit.get_trace("tr-" + "0" * 32, timeout=1)
    tracekit.shutdown(timeout=5)
    # the receiver did get the credentials: they are used, only never written
    assert rejecting_receiver.requests[0]["path"] == "/v1/traces?token=otlp-tok"
    assert rejecting_receiver.requests[0]["authorization"].startswith("Basic ")

    capsys.readouterr()
    assert main(["status"]) == 0
    assert main(["status", "--json"]) == 0
    status_out = capsys.readouterr().out

    home = tmp_path / "tracekit-home"
    written = _everything_written(home)
    _assert_clean("the outbox and status files", written)
    _assert_clean("the log", caplog.text)
    _assert_clean("tracekit status", status_out)
    _assert_clean("get_trace's error", str(read_error.value))
    _assert_clean("the span", json.dumps(captured.spans[0].attributes, default=str))

    # and what is written still says where the spans go
    descriptions = sorted(json.loads(p.read_text())["kind"] for p in home.rglob("destination.json"))
    assert descriptions == ["mlflow", "otlp"]
    assert f'"uri": "http://***@127.0.0.1:{dead}/?api_key=***"' in written
    assert f'"endpoint": "http://***@127.0.0.1:{rejecting_receiver.port}/v1/traces?token=***#***"' in written
    assert "cannot take /v1/traces?token=***" in written  # the refusal's reason, from the server
    assert f"destination:  http://***@127.0.0.1:{dead}/?api_key=***" in status_out
    assert "cannot take /v1/traces?token=***" in caplog.text


def test_sync_takes_the_credentials_back_from_the_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    accepting_receiver: _Receiver,
) -> None:
    full = f"http://alice:pw-otlp@127.0.0.1:{accepting_receiver.port}/v1/traces?token=otlp-tok"
    writer = OtlpExporter(OtlpConfig(full))
    assert writer.outbox.put(gzip.compress(b"spans"), spans=2)
    writer.shutdown()
    assert writer.describe() == f"http://***@127.0.0.1:{accepting_receiver.port}/v1/traces?token=***"

    # without the variable, sync cannot know the credentials: it says so and keeps the batch
    assert main(["sync", "--timeout", "5"]) == 1
    out = capsys.readouterr()
    assert "the outbox keeps no credentials; set OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT" in out.err
    _assert_clean("sync's output", out.out + out.err)
    assert accepting_receiver.requests == []

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", full)
    assert main(["sync", "--timeout", "5"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == f"http://***@127.0.0.1:{accepting_receiver.port}/v1/traces?token=***: sent 2 span(s) in 1 batch(es)"
    assert [r["path"] for r in accepting_receiver.requests] == ["/v1/traces?token=otlp-tok"]
    assert accepting_receiver.requests[0]["authorization"].startswith("Basic ")


def test_mlflow_destinations_read_back_from_the_outbox_take_the_uri_from_the_environment() -> None:
    full = "https://bob:hunter2@mlflow.example.com:5000"
    stored = {"kind": "mlflow", "uri": redact_url(full), "experiment_id": "3", "experiment_name": None}
    exporter = MlflowExporter.from_destination(stored, {"MLFLOW_TRACKING_URI": full + "/"})
    try:
        assert exporter.tracking_uri == full
        assert exporter.describe() == "https://***@mlflow.example.com:5000 (experiment '3')"
        assert exporter.outbox.destination["uri"] == "https://***@mlflow.example.com:5000"
    finally:
        exporter.shutdown()
    with pytest.raises(ValueError, match=r"keeps no credentials; set TRACEKIT_TRACKING_URI"):
        MlflowExporter.from_destination(stored, {"MLFLOW_TRACKING_URI": "https://mlflow.example.com:5000"})
    plain = MlflowExporter.from_destination({"kind": "mlflow", "uri": "http://127.0.0.1:5000"}, {})
    assert plain.tracking_uri == "http://127.0.0.1:5000"
    plain.shutdown()


def test_every_log_record_of_the_tracekit_logger_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tracekit")
    log = logging.getLogger("tracekit")
    log.warning("could not reach %s", "http://bob:hunter2@host:1/?api_key=sk-live-1")
    try:
        raise ConnectionError("Max retries exceeded with url: /v1/traces?token=otlp-tok via https://alice:pw-otlp@h")
    except ConnectionError:
        log.error("export failed", exc_info=True)
    log.info("header was Bearer otlp-tok")
    text = caplog.text
    _assert_clean("the log", text)
    assert "could not reach http://***@host:1/?api_key=***" in text
    assert "url: /v1/traces?token=*** via https://***@h" in text
    assert "Bearer ***" in text


def test_export_and_cli_errors_never_print_credentials(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tracekit.start_span("stored"):
        pass
    tracekit.flush()
    target = f"http://bob:hunter2@127.0.0.1:{_dead_port()}/?api_key=sk-live-1"
    assert main(["--store", f"sqlite:///{store_path}", "export", "--to", target]) == 1
    out = capsys.readouterr()
    _assert_clean("export's output", out.out + out.err)
    assert "upload to http://***@127.0.0.1:" in out.err
    assert "?api_key=*** failed after 0 trace(s): cannot reach http://***@127.0.0.1:" in out.err
    assert "?api_key=***: ConnectionError: [Errno 111] Connection refused" in out.err
    assert main(["export", "--to", "ftp://bob:hunter2@host"]) == 2
    out = capsys.readouterr()
    _assert_clean("export's usage error", out.err)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://user:pw@host/path", "https://***@host/path"),
        ("https://token-only@host", "https://***@host"),
        ("https://host/v1?api_key=k&mode=x", "https://host/v1?api_key=***&mode=***"),
        ("https://host/v1?bare-token", "https://host/v1?***"),
        ("https://host/v1#access_token=t", "https://host/v1#***"),
        ("https://u:p%40ss@host:8443/?sig=a;b=c", "https://***@host:8443/?sig=***&b=***"),
        ("http://[::1", "http://***"),
    ],
)
def test_redact_url_covers_every_credential_form(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted
    assert redact_url(redacted) == redacted  # idempotent: safe to apply at every layer
    assert redact_text(f"at {url} now") == f"at {redacted} now"


def test_an_exception_quoting_a_url_is_recorded_without_its_credentials(captured: SpanCapture) -> None:
    @tracekit.trace
    def fetch() -> None:
        raise ConnectionError("Max retries exceeded with url: /v1/data?api_key=sk-live-1 (host https://bob:hunter2@h)")

    with pytest.raises(ConnectionError, match="sk-live-1"):  # the app's exception is untouched
        fetch()
    (span,) = captured.spans
    _assert_clean("the error span", json.dumps([span.status_message, span.events], default=str))
    (event,) = span.events
    assert event["attributes"]["exception.message"] == (
        "Max retries exceeded with url: /v1/data?api_key=*** (host https://***@h)"
    )
    assert "ConnectionError: Max retries exceeded with url: /v1/data?api_key=***" in event["attributes"]["exception.stacktrace"]
