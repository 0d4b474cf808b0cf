"""Odd values reach a real MLflow server with their batch: one bad value costs nothing
but itself (replaced in place by a marker), never the trace."""

from __future__ import annotations

import pytest

import tracekit

from . import rest
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.mlflow


class RaisingStr:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    __repr__ = __str__


def test_a_trace_with_every_kind_of_bad_value_arrives_whole(mlflow_server: MlflowServer, experiment: str) -> None:
    tracekit.set_tracking_uri(mlflow_server.uri)
    tracekit.set_experiment(experiment)
    with tracekit.start_span("root\x00\ud800", span_type="CHAIN", inputs={"q": "caf\u00e9 \ud83d"}) as root:
        tracekit.update_current_trace(tags={"t\ud800": RaisingStr(), "ok": "1"}, session_id="s\udfff")
        for i in range(5):
            with tracekit.start_span(f"child-{i}") as span:
                span.set_attribute("big", 10**5000)
                span.set_attribute("wide", 2**70)
                span.set_attribute("nan", float("nan"))
                span.set_outputs({"bad": RaisingStr(), "blob": b"\x89PNG\r\n\x1a\n" + bytes(100)})
        with tracekit.start_span("raw") as raw:
            otel = raw.otel_span
            assert otel is not None
            otel.set_attribute("bypassed", "x\ud800")  # past tracekit's gate: cleaned at encoding
    trace_id = root.trace_id
    result = tracekit.flush(timeout=30)
    assert (result.delivered, result.failed, result.dropped, result.spilled) == (7, 0, 0, 0)
    trace = rest.get_trace(mlflow_server.uri, trace_id or "")
    assert trace is not None
    names = sorted(s.name for s in trace.spans)
    assert names == sorted(["root\ufffd\ufffd", "raw", *(f"child-{i}" for i in range(5))])
    by_name = {s.name: s for s in trace.spans}
    assert by_name["root\ufffd\ufffd"].inputs == {"q": "caf\u00e9 \ufffd"}
    child = by_name["child-0"]
    assert child.outputs == {"bad": "<unrepresentable RaisingStr>", "blob": "<bytes image/png, 108 bytes>"}
    assert child.attributes["big"] == "<int of about 5001 digits>"
    assert child.attributes["wide"] == str(2**70)
    assert child.attributes["nan"] == "nan"
    assert by_name["raw"].attributes["bypassed"] == "x\ufffd"
    # U+FFFD is outside MLflow's tag-key alphabet: the server would drop the tag silently
    assert trace.info.tags["t_"] == "<unrepresentable RaisingStr>" and trace.info.tags["ok"] == "1"
    assert trace.info.session_id == "s\ufffd"
