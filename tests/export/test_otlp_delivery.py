"""Delivery is exactly once while the app runs, and the exit is bounded whatever the
destination does: a scripted OTLP receiver (slow, hung, or gone) counts deliveries by
span id, and real apps in subprocesses show how long their exit takes.

The wall-time checks are bounds (a promise: exit_timeout + 1 s, with slack for a busy
machine), not benchmarks."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracekit
from tracekit._export._outbox import Outbox

from .otlp_receiver import OtlpReceiver

SLACK = 2.0  # a loaded CI machine: the promise is exit_timeout + 1 s


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver()
    yield r
    r.close()


def test_a_slow_server_receives_each_span_exactly_once(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, store_path: Path
) -> None:
    # Answers take 0.7 s. A small queue overflows into the outbox, which is resent while
    # the app runs: a resend must wait for the answer, not time out and send it again.
    receiver.delay = 0.7
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    tracekit.configure(max_queue_size=8, export_batch_size=4)
    for n in range(40):
        with tracekit.start_span(f"s{n}"):
            time.sleep(0.005)
    result = tracekit.flush(timeout=60)
    # flush() drained the outbox too (waiting for the worker's resend in progress)
    assert (result.pending, result.failed, result.dropped, result.spilled) == (0, 0, 0, 0), result
    counts = collections.Counter(receiver.span_ids())
    assert len(counts) == 40
    assert [span_id for span_id, n in counts.items() if n > 1] == []


APP = """
import sys, tracekit
tracekit.configure(tracking_uri="sqlite:///{db}", exit_timeout={exit_timeout})
for n in range(30):
    with tracekit.start_span("work", inputs={{"n": n}}):
        pass
print("app done", flush=True)
"""


def _env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env.update(
        TRACEKIT_HOME=str(tmp_path / "home"),
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        TRACEKIT_EXPORT_RETRY_BUDGET="30",
    )
    return env


def run_app(tmp_path: Path, endpoint: str, exit_timeout: float, interrupt_after: float | None = None) -> tuple[float, str]:
    """Run the app; return (seconds from its last line to its exit, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", APP.format(db=tmp_path / "traces.db", exit_timeout=exit_timeout)],
        env=_env(tmp_path, endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "app done\n"
    done = time.monotonic()
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        proc.send_signal(signal.SIGINT)  # Ctrl-C during the exit flush
    try:
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return time.monotonic() - done, stderr


def _waiting(tmp_path: Path, endpoint: str) -> int:
    return Outbox(tmp_path / "home" / "outbox", {"kind": "otlp", "endpoint": endpoint + "/v1/traces"}).stats().spans


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_exit_with_a_hung_server_is_bounded_and_keeps_the_spans(receiver: OtlpReceiver, tmp_path: Path) -> None:
    receiver.hang = True
    elapsed, stderr = run_app(tmp_path, receiver.endpoint, exit_timeout=2)
    assert elapsed < 2 + 1 + SLACK, (elapsed, stderr)
    assert "30 span(s) could not be delivered yet and wait in the outbox" in stderr, stderr
    assert "Traceback" not in stderr and "FlushResult" not in stderr
    assert _waiting(tmp_path, receiver.endpoint) == 30  # each span once


def test_a_destination_known_to_be_down_does_not_cost_every_exit(receiver: OtlpReceiver, tmp_path: Path) -> None:
    receiver.hang = True
    first, stderr = run_app(tmp_path, receiver.endpoint, exit_timeout=4)
    assert _waiting(tmp_path, receiver.endpoint) >= 30, stderr
    # the next process reads from the outbox that the server is down: its batches go
    # straight to the outbox, and the exit spends at most a one-second probe on it
    second, stderr = run_app(tmp_path, receiver.endpoint, exit_timeout=4)
    assert second < 1 + SLACK, (first, second, stderr)
    assert _waiting(tmp_path, receiver.endpoint) >= 60
    assert "Traceback" not in stderr


def test_exit_with_a_dead_server_is_bounded(tmp_path: Path) -> None:
    endpoint = _closed_port()
    elapsed, stderr = run_app(tmp_path, endpoint, exit_timeout=2)
    assert elapsed < 2 + 1 + SLACK, (elapsed, stderr)
    assert _waiting(tmp_path, endpoint) == 30
    assert "Traceback" not in stderr


def test_ctrl_c_during_the_exit_flush_spills_and_exits_at_once(receiver: OtlpReceiver, tmp_path: Path) -> None:
    receiver.hang = True
    elapsed, stderr = run_app(tmp_path, receiver.endpoint, exit_timeout=60, interrupt_after=1.0)
    assert elapsed < 1.0 + 1 + SLACK, (elapsed, stderr)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert "interrupted while sending traces at exit" in stderr, stderr
    # nothing lost (nor doubled): what was queued or in flight went to the outbox
    assert _waiting(tmp_path, receiver.endpoint) == 30, stderr


def test_a_short_lived_process_notices_the_server_is_back(receiver: OtlpReceiver, tmp_path: Path) -> None:
    receiver.hang = True
    run_app(tmp_path, receiver.endpoint, exit_timeout=2)
    assert _waiting(tmp_path, receiver.endpoint) == 30
    receiver.hang = False
    received = len(receiver.span_ids())  # the hung request's batch, kept before it hung
    # the outbox says "down", but the exit probes once: the server answers, and this
    # process's spans and the waiting ones are delivered
    _, stderr = run_app(tmp_path, receiver.endpoint, exit_timeout=5)
    assert "reachable again" in stderr, stderr
    assert _waiting(tmp_path, receiver.endpoint) == 0
    assert len(receiver.span_ids()) - received == 60
