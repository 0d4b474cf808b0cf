"""A nested LLM trace shipped to a real MLflow server and read back over REST."""

from __future__ import annotations

import json

import pytest

import tracekit

from . import rest
from .llm_spans import TOOLS, nested_trace
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.mlflow


def test_nested_trace_round_trips_through_the_server(mlflow_server: MlflowServer, experiment: str) -> None:
    tracekit.set_tracking_uri(mlflow_server.uri)
    tracekit.set_experiment(experiment)
    trace_id = nested_trace()
    result = tracekit.flush(timeout=30)
    assert (result.delivered, result.pending, result.failed, result.dropped, result.spilled) == (6, 0, 0, 0, 0)

    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert exp_id is not None
    trace = rest.get_trace(mlflow_server.uri, trace_id)
    assert trace is not None
    info = trace.info
    assert info.trace_id == trace_id
    assert info.status == "OK"
    assert info.name == "weather-agent"
    assert info.session_id == "session-7" and info.user_id == "user-42"
    assert {k: info.tags[k] for k in ("team", "release", "app_version", "mlflow.traceName")} == {
        "team": "search",
        "release": "r42",
        "app_version": "1.2.3",  # metadata travels as a tag: the server ignores mlflow.traceMetadata.*
        "mlflow.traceName": "weather-agent",
    }
    assert info.tags["service.name"] == "tracekit"
    # the trace total is the sum over the three LLM spans
    assert info.token_usage == {"input_tokens": 60, "output_tokens": 16, "total_tokens": 76}
    assert json.loads(info.request_preview or "") == {"question": "What is the weather in Paris?"}
    assert json.loads(info.response_preview or "") == "It is 18°C and clear in Paris."

    by_name = {s.name: s for s in trace.spans}
    assert [(s.name, s.span_type) for s in trace.spans] == [
        ("answer", "CHAIN"),
        ("openai.chat.completions.create", "CHAT_MODEL"),
        ("get_weather", "TOOL"),
        ("anthropic.messages.stream", "CHAT_MODEL"),
        ("gemini.models.generate_content", "CHAT_MODEL"),
        ("format", "PARSER"),
    ]
    root = by_name["answer"]
    assert root.parent_id is None
    assert all(s.parent_id == root.span_id for s in trace.spans if s is not root)
    assert root.inputs == {"question": "What is the weather in Paris?"}
    openai = by_name["openai.chat.completions.create"]
    assert openai.inputs["messages"][1] == {"role": "user", "content": "What is the weather in Paris?"}
    assert openai.outputs["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert openai.token_usage == {"input_tokens": 20, "output_tokens": 5, "total_tokens": 25}
    assert json.loads(openai.attributes["mlflow.chat.tools"]) == TOOLS
    assert openai.attributes["mlflow.message.format"] == "openai"
    assert openai.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert "mlflow.llm.cost" in openai.attributes  # the server priced it from model + usage
    anthropic = by_name["anthropic.messages.stream"]
    assert anthropic.model == "claude-3-5-haiku-latest"
    assert anthropic.attributes["tracekit.stream"] is True and anthropic.attributes["tracekit.stream.chunks"] == 6
    assert anthropic.outputs["content"][0]["text"] == "18°C and clear."
    gemini = by_name["gemini.models.generate_content"]
    assert gemini.token_usage == {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}
    assert gemini.inputs["contents"][0]["parts"][0]["text"] == "What is the weather in Paris?"
    failed = by_name["format"]
    assert failed.status == "ERROR" and "bad format" in (failed.status_message or "")
    assert any(e["name"] == "exception" for e in failed.events)
    assert all(s.status == "OK" for s in trace.spans if s is not failed)

    # search by the attributes the UI filters on
    found = rest.search_trace_infos(mlflow_server.uri, exp_id, "span.type = 'CHAT_MODEL'")
    assert [t["trace_id"] for t in found] == [trace_id]

    # and tracekit.get_trace reads the same trace through tracekit's own reader
    again = tracekit.get_trace(trace_id)
    assert again is not None and again.to_dict() == trace.to_dict()


def test_error_root_sets_the_trace_state(mlflow_server: MlflowServer, experiment: str) -> None:
    tracekit.set_tracking_uri(mlflow_server.uri)
    tracekit.set_experiment(experiment)
    with pytest.raises(RuntimeError), tracekit.start_span("boom", span_type="CHAIN"):
        raise RuntimeError("no")
    trace_id = tracekit.get_last_trace_id()
    assert tracekit.flush(timeout=30).delivered == 1
    trace = rest.get_trace(mlflow_server.uri, trace_id or "")
    assert trace is not None and trace.info.status == "ERROR"


def test_get_trace_of_an_unknown_id_is_none(mlflow_server: MlflowServer) -> None:
    tracekit.set_tracking_uri(mlflow_server.uri)
    assert tracekit.get_trace("tr-" + "0" * 32) is None
