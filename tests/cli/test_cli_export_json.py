"""``tracekit traces export``: OTLP/JSON that converts back to the very same protobuf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_traces import AGENT_TRACE
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracekit._cli import main
from tracekit._export._encode import encode_otlp, readable_from_data
from tracekit._export._otlp_json import from_otlp_json
from tracekit._store import SQLiteStore

AGENT_ID = f"tr-{AGENT_TRACE:032x}"


def test_stdout_json_round_trips_to_the_protobuf(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", str(sample_db), "traces", "export", AGENT_ID[:32]]) == 0
    body = json.loads(capsys.readouterr().out)
    spans = [s for rs in body["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert {s["traceId"] for s in spans} == {f"{AGENT_TRACE:032x}"}
    parents = {s["spanId"] for s in spans}
    assert all(s.get("parentSpanId") in parents for s in spans if "parentSpanId" in s)
    trace = SQLiteStore(sample_db).get_trace(AGENT_ID)
    assert trace is not None
    expected = ExportTraceServiceRequest()
    expected.ParseFromString(encode_otlp([readable_from_data(s) for s in trace.spans]))
    again = ExportTraceServiceRequest()
    again.ParseFromString(from_otlp_json(body))
    assert again == expected


def test_file_output_and_errors(sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "t.json"
    assert main(["--store", str(sample_db), "traces", "export", AGENT_ID, "-o", str(target)]) == 0
    assert json.loads(target.read_text())["resourceSpans"]
    assert "as OTLP/JSON" in capsys.readouterr().err
    assert main(["--store", str(sample_db), "traces", "export", AGENT_ID, "-o", str(tmp_path / "no" / "dir.json")]) == 1
    assert capsys.readouterr().err.startswith("tracekit: error: cannot write")
    assert main(["--store", str(sample_db), "traces", "export", "tr-" + "f" * 32]) == 1
    assert "no trace" in capsys.readouterr().err
