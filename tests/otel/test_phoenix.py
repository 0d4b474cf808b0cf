"""tracekit's spans in a real Arize Phoenix (an OpenTelemetry backend that reads
OpenInference keys), read back over Phoenix's REST API and compared with what
OpenInference's own OpenAI instrumentor shows there for the same call."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

import tracekit
from tracekit.testing import FakeLLMServer

from .phoenix_server import PhoenixServer, venv_python

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
REQUEST = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Oslo?"}],
    "tools": TOOLS,
}


@pytest.fixture
def project(phoenix: PhoenixServer, monkeypatch: pytest.MonkeyPatch, store_path: Path) -> str:
    name = f"tk-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", phoenix.url)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", f"openinference.project.name={name}")
    return name


@pytest.fixture(autouse=True)
def _autolog() -> Any:
    tracekit.autolog()
    yield
    tracekit.autolog(disable=True)


def _by_name(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {span["name"]: span for span in spans}


def test_every_provider_under_a_chain(phoenix: PhoenixServer, project: str, server: FakeLLMServer) -> None:
    @tracekit.trace
    def agent(question: str) -> str:
        server.set_scenario("tool_call")
        oai = openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test-secret", max_retries=0)
        oai.chat.completions.create(**REQUEST)  # type: ignore[call-overload]
        server.set_scenario("text")
        streamed = "".join(
            c.choices[0].delta.content or ""
            for c in oai.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": question}], stream=True
            )
            if c.choices
        )
        claude = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-secret", max_retries=0)
        claude.messages.create(
            model="claude-fake", max_tokens=32, system="Be brief.", messages=[{"role": "user", "content": question}]
        )
        gemini = genai.Client(api_key="g-secret", http_options=types.HttpOptions(base_url=server.gemini_base_url))
        gemini.models.generate_content(model="gemini-2.5-flash", contents=question)
        return streamed

    answer = agent("Weather in Oslo?")
    assert tracekit.flush(timeout=30).ok
    spans = phoenix.spans(project, expected=5)
    assert len(spans) == 5
    chain = _by_name(spans)["agent"]
    assert chain["span_kind"] == "CHAIN" and chain["parent_id"] is None and chain["status_code"] == "OK"
    assert json.loads(chain["attributes"]["input.value"]) == {"question": "Weather in Oslo?"}
    assert json.loads(chain["attributes"]["output.value"]) == answer
    llm = [s for s in spans if s["name"] != "agent"]
    assert all(
        s["span_kind"] == "LLM" and s["parent_id"] == chain["context"]["span_id"] and s["status_code"] == "OK" for s in llm
    )
    assert len({s["context"]["trace_id"] for s in spans}) == 1

    tool_call, streamed, claude, gemini = sorted(llm, key=lambda s: s["start_time"])
    a = tool_call["attributes"]
    assert a["llm.model_name"] == "gpt-4o-mini" and a["llm.system"] == "openai"
    assert [a["llm.input_messages.0.message.role"], a["llm.input_messages.1.message.role"]] == ["system", "user"]
    assert a["llm.input_messages.1.message.content"] == "Weather in Oslo?"
    assert a["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == "get_weather"
    assert json.loads(a["llm.tools.0.tool.json_schema"]) == TOOLS[0]
    assert a["llm.token_count.total"] == a["llm.token_count.prompt"] + a["llm.token_count.completion"]
    assert json.loads(a["gen_ai.input.messages"])[1] == {
        "role": "user",
        "parts": [{"type": "text", "content": "Weather in Oslo?"}],
    }
    assert streamed["attributes"]["llm.output_messages.0.message.content"] == answer
    c = claude["attributes"]
    assert c["llm.system"] == "anthropic" and c["llm.input_messages.0.message.role"] == "system"
    assert c["llm.output_messages.0.message.content"]
    g = gemini["attributes"]
    assert g["llm.system"] == "vertexai" and g["llm.model_name"] == "gemini-2.5-flash"
    assert g["llm.input_messages.0.message.content"] == "Weather in Oslo?" and g["llm.output_messages.0.message.content"]
    body = json.dumps(spans)
    assert "sk-test-secret" not in body and "sk-ant-secret" not in body and "g-secret" not in body


#: what both instrumentations must agree on for the same call
COMPARED = (
    "llm.model_name",
    "llm.system",
    "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.content",
    "llm.input_messages.1.message.role",
    "llm.input_messages.1.message.content",
    "llm.output_messages.0.message.role",
    "llm.output_messages.0.message.tool_calls.0.tool_call.id",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
)


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_same_view_as_openinference(phoenix: PhoenixServer, project: str, server: FakeLLMServer, stream: bool) -> None:
    python = venv_python()
    assert python is not None
    theirs_project = project + "-openinference"
    server.set_scenario("tool_call")
    server.clear()
    request = {**REQUEST, "stream": True} if stream else REQUEST
    script = Path(__file__).with_name("openinference_openai.py")
    subprocess.run(
        [str(python), str(script), phoenix.url, theirs_project, server.openai_base_url, json.dumps(request)],
        check=True,
        timeout=120,
    )
    server.clear()  # the same ids for the second call
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    if stream:
        for _ in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **REQUEST):  # type: ignore[call-overload]
            pass
    else:
        client.chat.completions.create(**REQUEST)  # type: ignore[call-overload]
    assert tracekit.flush(timeout=30).ok
    (theirs,) = phoenix.spans(theirs_project, expected=1)
    (ours,) = phoenix.spans(project, expected=1)
    assert ours["span_kind"] == theirs["span_kind"] == "LLM"
    for key in COMPARED:
        assert ours["attributes"].get(key) == theirs["attributes"].get(key), key
    assert json.loads(ours["attributes"]["llm.tools.0.tool.json_schema"]) == json.loads(
        theirs["attributes"]["llm.tools.0.tool.json_schema"]
    )
