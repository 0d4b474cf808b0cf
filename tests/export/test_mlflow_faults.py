"""5xx, 429 + Retry-After, slow answers, dropped connections and refused batches,
injected by a loopback proxy in front of the real server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import tracekit
from tracekit._export._outbox import Outbox

from . import rest
from .conftest import simple_trace
from .mlflow_server import MlflowServer
from .proxy import FaultProxy

pytestmark = pytest.mark.mlflow


def _point_at(proxy: FaultProxy, experiment: str) -> None:
    tracekit.set_tracking_uri(proxy.uri)
    tracekit.set_experiment(experiment)


def _arrived(server: MlflowServer, experiment: str) -> list[str]:
    exp_id = rest.experiment_id(server.uri, experiment)
    assert exp_id is not None
    return sorted(t["trace_id"] for t in rest.search_trace_infos(server.uri, exp_id))


def test_5xx_and_dropped_connections_are_retried_until_delivered(
    mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str
) -> None:
    _point_at(proxy, experiment)
    proxy.plan.extend([("status", 503), ("drop",), ("status", 502), ("status", 500)])
    ids = sorted(simple_trace(i=i) for i in range(3))
    result = tracekit.flush(timeout=30)
    assert (result.delivered, result.pending, result.spilled, result.failed) == (6, 0, 0, 0)
    assert proxy.outcomes() == ["status", "drop", "status", "status", "pass"]
    assert _arrived(mlflow_server, experiment) == ids


def test_429_retry_after_is_honoured(mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str) -> None:
    _point_at(proxy, experiment)
    proxy.plan.append(("status", 429, {"Retry-After": "2"}))
    trace_id = simple_trace()
    result = tracekit.flush(timeout=30)
    assert result.delivered == 2 and result.ok
    times = [t for t, p, _ in proxy.seen if p.startswith("/v1/traces")]
    assert len(times) == 2 and times[1] - times[0] >= 1.9  # waited as told, not the short backoff
    assert _arrived(mlflow_server, experiment) == [trace_id]


def test_slow_server_costs_the_app_nothing(mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str) -> None:
    _point_at(proxy, experiment)
    proxy.plan.append(("slow", 3.0))
    started = time.monotonic()
    ids = sorted(simple_trace(i=i) for i in range(20))
    app_time = time.monotonic() - started
    assert app_time < 1.0  # the app's thread never waits on the network
    result = tracekit.flush(timeout=30)
    assert result.delivered == 40 and result.ok
    assert _arrived(mlflow_server, experiment) == ids


def test_a_refused_batch_is_set_aside_with_the_reason(
    mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str, tmp_path: Path
) -> None:
    _point_at(proxy, experiment)
    proxy.plan.append(("status", 400))
    simple_trace()
    result = tracekit.flush(timeout=30)
    assert (result.delivered, result.failed, result.pending) == (0, 2, 0)
    assert not result.ok
    assert proxy.outcomes() == ["status"]  # not retried
    exporter = tracekit._tracer.current_pipeline().exporters[0]  # type: ignore[union-attr]
    box: Outbox = exporter.outbox  # type: ignore[attr-defined]
    [entry] = box.rejected()
    assert entry.spans == 2 and entry.reason is not None and "HTTP 400" in entry.reason and "injected" in entry.reason


def test_server_down_then_up_in_the_same_process(
    mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str, fast_retries: None
) -> None:
    # the experiment exists already: this test is about the /v1/traces path being down
    tracekit.set_tracking_uri(mlflow_server.uri)
    tracekit.set_experiment(experiment)
    simple_trace("warm-up")
    assert tracekit.flush(timeout=30).delivered == 2
    _point_at(proxy, experiment)
    proxy.mode = "down"
    ids = sorted(simple_trace(i=i) for i in range(5))
    result = tracekit.flush(timeout=4)
    assert result.delivered == 0 and result.spilled + result.pending == 10
    proxy.mode = "up"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result = tracekit.flush(timeout=5)
        if result.delivered == 10:
            break
        time.sleep(0.5)
    assert (result.delivered, result.spilled, result.pending, result.failed, result.dropped) == (10, 0, 0, 0, 0)
    arrived = _arrived(mlflow_server, experiment)
    assert set(ids) <= set(arrived) and len(arrived) == 6
