"""Real provider spans through a real MLflow server: an agent that calls the openai,
anthropic and google-genai SDKs (streamed and not) against the fake LLM server, its
trace exported over OTLP and read back over REST -- what the MLflow UI is drawn from.

``run_trip_agent`` / ``run_failing_agent`` are also what ``scripts/mlflow_ui_screenshots.py``
ships before it photographs the UI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anthropic
import openai
import pytest
import requests
from google import genai
from google.genai import types

import tracekit
from tracekit.testing import FakeLLMServer

from . import rest
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.mlflow

SYSTEM = "You are a concise travel assistant."
QUESTION = "I have one free day in Paris. What should I do?"
ANSWER = "Paris is 18°C and clear today: walk along the Seine, then spend the afternoon at the Musée d'Orsay."
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"
GEMINI_MODEL = "gemini-2.5-flash"
TAGS = {"team": "travel", "release": "r7"}
SESSION = "session-paris-1"
USER = "user-ada"
TRACE_NAME = "trip-planner"

# single-value enums make the fake model's schema-derived tool arguments read naturally
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris"]}},
            "required": ["city"],
        },
    },
}
MUSEUM_TOOL = {
    "name": "find_museum",
    "description": "Suggest a museum in a city for a topic",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "enum": ["Paris"]},
            "topic": {"type": "string", "enum": ["impressionism"]},
        },
        "required": ["city", "topic"],
    },
}
SCENARIO = "x-fake-scenario"


@dataclass
class AgentRun:
    """What the SDKs returned to the app, to compare with what the server shows."""

    trace_id: str = ""
    answer: str = ""
    weather_call: dict[str, Any] = field(default_factory=dict)
    museum_call: dict[str, Any] = field(default_factory=dict)
    usage: list[tuple[int, int]] = field(default_factory=list)  # (input, output) per successful LLM call, in order
    texts: list[str] = field(default_factory=list)  # text answer per successful LLM call ("" for tool calls)


def _clients(server: FakeLLMServer) -> tuple[openai.OpenAI, anthropic.Anthropic, genai.Client]:
    """SDK clients on the fake server; OpenAI and Gemini through gateway-style base paths."""
    return (
        openai.OpenAI(base_url=server.url_for("/gateway/openai/v1"), api_key="sk-test", max_retries=0),
        anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0),
        genai.Client(
            api_key="gemini-test",
            http_options=types.HttpOptions(base_url=server.url_for("/gateway/gemini"), api_version="v1beta"),
        ),
    )


def run_trip_agent(
    server: FakeLLMServer, question: str = QUESTION, *, session_id: str = SESSION, user_id: str = USER
) -> AgentRun:
    """One app-shaped trace, with autolog on for the three providers:

    ``trip_agent`` (AGENT) > OpenAI chat with tools > ``get_weather`` (TOOL) > OpenAI chat
    streamed > a failing OpenAI call the app survives > Anthropic ``messages.stream()``
    tool use > Anthropic ``messages.create`` > Gemini ``generate_content_stream`` >
    Gemini ``generate_content`` (with a tool declared).
    """
    server.set_scenario("text", text=ANSWER, chunks=12)
    oai, claude, gemini = _clients(server)
    run = AgentRun()

    @tracekit.trace(span_type="TOOL")
    def get_weather(city: str) -> dict[str, Any]:
        return {"city": city, "temp_c": 18, "sky": "clear"}

    @tracekit.trace(span_type="AGENT")
    def trip_agent(question: str) -> str:
        tracekit.update_current_trace(name=TRACE_NAME, tags=TAGS, session_id=session_id, user_id=user_id)
        messages: list[Any] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
        first = oai.chat.completions.create(
            model=OPENAI_MODEL, messages=messages, tools=[WEATHER_TOOL], extra_headers={SCENARIO: "tool_call"}
        )
        call = first.choices[0].message.tool_calls[0]
        run.weather_call = {"id": call.id, "name": call.function.name, "arguments": json.loads(call.function.arguments)}
        run.usage.append((first.usage.prompt_tokens, first.usage.completion_tokens))
        run.texts.append("")
        weather = get_weather(**run.weather_call["arguments"])
        messages += [
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(weather)},
        ]
        text = ""
        for chunk in oai.chat.completions.create(
            model=OPENAI_MODEL, messages=messages, tools=[WEATHER_TOOL], stream=True, stream_options={"include_usage": True}
        ):
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            if chunk.usage:
                run.usage.append((chunk.usage.prompt_tokens, chunk.usage.completion_tokens))
        run.texts.append(text)
        try:  # a provider outage the app rides out: the span is ERROR, the trace is not
            oai.chat.completions.create(model=OPENAI_MODEL, messages=messages, extra_headers={SCENARIO: "error_500"})
        except openai.InternalServerError:
            pass

        ask = [{"role": "user", "content": "Which museum should I see there?"}]
        with claude.messages.stream(
            model=ANTHROPIC_MODEL,
            max_tokens=256,
            system=SYSTEM,
            messages=ask,
            tools=[MUSEUM_TOOL],
            extra_headers={SCENARIO: "tool_call"},
        ) as stream:
            tool_use = stream.get_final_message()
        block = next(b for b in tool_use.content if b.type == "tool_use")
        run.museum_call = {"id": block.id, "name": block.name, "input": block.input}
        run.usage.append((tool_use.usage.input_tokens, tool_use.usage.output_tokens))
        run.texts.append("")
        reply = claude.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=256,
            system=SYSTEM,
            tools=[MUSEUM_TOOL],
            messages=[
                *ask,
                {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in tool_use.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "Musée d'Orsay"}]},
            ],
        )
        run.usage.append((reply.usage.input_tokens, reply.usage.output_tokens))
        run.texts.append(reply.content[0].text)

        config = types.GenerateContentConfig(system_instruction=SYSTEM)
        streamed = list(gemini.models.generate_content_stream(model=GEMINI_MODEL, contents=question, config=config))
        last = streamed[-1].usage_metadata
        run.usage.append((last.prompt_token_count, last.candidates_token_count))
        run.texts.append("".join(c.text or "" for c in streamed))
        declared = types.GenerateContentConfig(
            system_instruction=SYSTEM,
            tools=[
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name="get_weather",
                            description="Current weather for a city",
                            parameters_json_schema=WEATHER_TOOL["function"]["parameters"],  # type: ignore[index]
                        )
                    ]
                )
            ],
        )
        summary = gemini.models.generate_content(model=GEMINI_MODEL, contents=f"Summarize in one line: {text}", config=declared)
        meta = summary.usage_metadata
        run.usage.append((meta.prompt_token_count, meta.candidates_token_count))
        run.texts.append(summary.text or "")
        return text

    run.answer = trip_agent(question)
    run.trace_id = tracekit.get_last_trace_id() or ""
    return run


def run_failing_agent(server: FakeLLMServer) -> str:
    """A trace whose provider call fails and takes the root down with it; returns its id."""
    _, claude, _ = _clients(server)

    @tracekit.trace(span_type="CHAIN")
    def flaky_agent(question: str) -> str:
        tracekit.update_current_trace(name="flaky-agent", session_id=SESSION, user_id=USER)
        reply = claude.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=64,
            messages=[{"role": "user", "content": question}],
            extra_headers={SCENARIO: "error_529"},
        )
        return reply.content[0].text

    try:
        flaky_agent("Is the Louvre open on Tuesdays?")
    except anthropic.APIStatusError:
        pass
    return tracekit.get_last_trace_id() or ""


def _raw_info(base: str, trace_id: str) -> dict[str, Any]:
    """The server's own trace info, untouched by tracekit's reader (which fills gaps from spans)."""
    r = requests.get(f"{base}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=30)
    r.raise_for_status()
    info: dict[str, Any] = r.json()["trace"]["trace_info"]
    return info


@pytest.fixture
def _autolog() -> Iterator[None]:
    tracekit.autolog()
    yield
    tracekit.autolog(disable=True)


@pytest.mark.usefixtures("_autolog")
def test_provider_spans_round_trip_through_the_server(
    mlflow_server: MlflowServer, experiment: str, server: FakeLLMServer
) -> None:
    tracekit.set_tracking_uri(mlflow_server.uri)
    tracekit.set_experiment(experiment)
    run = run_trip_agent(server)
    failed_id = run_failing_agent(server)
    result = tracekit.flush(timeout=30)
    assert (result.delivered, result.pending, result.failed, result.dropped) == (11, 0, 0, 0), result
    assert run.answer == ANSWER

    trace = rest.get_trace(mlflow_server.uri, run.trace_id)
    assert trace is not None
    spans = trace.spans
    assert [(s.name, s.span_type) for s in spans] == [
        ("trip_agent", "AGENT"),
        (f"chat {OPENAI_MODEL}", "CHAT_MODEL"),
        ("get_weather", "TOOL"),
        (f"chat {OPENAI_MODEL}", "CHAT_MODEL"),
        (f"chat {OPENAI_MODEL}", "CHAT_MODEL"),
        (f"chat {ANTHROPIC_MODEL}", "CHAT_MODEL"),
        (f"chat {ANTHROPIC_MODEL}", "CHAT_MODEL"),
        (f"generate_content {GEMINI_MODEL}", "CHAT_MODEL"),
        (f"generate_content {GEMINI_MODEL}", "CHAT_MODEL"),
    ]
    root, oai_tools, tool, oai_stream, oai_failed, claude_stream, claude_reply, gem_stream, gem_reply = spans
    assert root.parent_id is None
    assert all(s.parent_id == root.span_id for s in spans[1:])
    assert root.inputs == {"question": QUESTION} and root.outputs == ANSWER
    assert [s.status for s in spans] == ["OK", "OK", "OK", "OK", "ERROR", "OK", "OK", "OK", "OK"]

    # -- what the server made of the trace: its own info, not tracekit's summary --
    raw = _raw_info(mlflow_server.uri, run.trace_id)
    assert raw["state"] == "OK"
    assert raw["tags"]["mlflow.traceName"] == TRACE_NAME and trace.info.name == TRACE_NAME
    assert {k: raw["tags"][k] for k in TAGS} == TAGS
    assert raw["trace_metadata"]["mlflow.trace.session"] == SESSION
    assert raw["trace_metadata"]["mlflow.trace.user"] == USER
    assert json.loads(raw["request_preview"]) == {"question": QUESTION}
    assert json.loads(raw["response_preview"]) == ANSWER
    llm_ok = [oai_tools, oai_stream, claude_stream, claude_reply, gem_stream, gem_reply]
    span_usage = [s.token_usage for s in llm_ok]
    assert [(u["input_tokens"], u["output_tokens"]) for u in span_usage if u] == run.usage
    assert oai_failed.token_usage is None and root.token_usage is None and tool.token_usage is None
    total = json.loads(raw["trace_metadata"]["mlflow.trace.tokenUsage"])
    assert (total["input_tokens"], total["output_tokens"], total["total_tokens"]) == (
        sum(i for i, _ in run.usage),
        sum(o for _, o in run.usage),
        sum(i + o for i, o in run.usage),
    )

    # -- per provider: message format, model, provider, request kwargs, response JSON --
    formats = {"openai": (oai_tools, oai_stream, oai_failed), "anthropic": (claude_stream, claude_reply)}
    formats["gemini"] = (gem_stream, gem_reply)
    models = {"openai": OPENAI_MODEL, "anthropic": ANTHROPIC_MODEL, "gemini": GEMINI_MODEL}
    for provider, group in formats.items():
        for s in group:
            assert s.attributes["mlflow.message.format"] == provider, s.name
            assert s.attributes["mlflow.llm.provider"] == provider, s.name
            assert s.attributes["mlflow.llm.model"] == models[provider] == s.model, s.name
    assert all(s.attributes.get("tracekit.stream") is True for s in (oai_stream, claude_stream, gem_stream))
    assert oai_tools.attributes["tracekit.gateway.path"] == "/gateway/openai/v1"
    assert gem_reply.attributes["tracekit.gateway.path"] == "/gateway/gemini"
    # the server prices each call from model + provider + usage, and sums the trace's cost
    costs = [json.loads(s.attributes["mlflow.llm.cost"])["total_cost"] for s in llm_ok]
    assert all(c > 0 for c in costs)
    assert "mlflow.llm.cost" not in oai_failed.attributes
    assert json.loads(raw["trace_metadata"]["mlflow.trace.cost"])["total_cost"] == pytest.approx(sum(costs))

    # OpenAI: tools -> tool call -> TOOL span -> streamed answer, accumulated
    assert oai_tools.inputs["messages"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    assert oai_tools.inputs["tools"] == [WEATHER_TOOL]
    assert json.loads(oai_tools.attributes["mlflow.chat.tools"]) == [WEATHER_TOOL]
    [called] = oai_tools.outputs["choices"][0]["message"]["tool_calls"]
    assert called["id"] == run.weather_call["id"] and called["function"]["name"] == "get_weather"
    assert json.loads(called["function"]["arguments"]) == run.weather_call["arguments"] == {"city": "Paris"}
    assert oai_tools.outputs["choices"][0]["finish_reason"] == "tool_calls"
    assert tool.inputs == {"city": "Paris"} and tool.outputs == {"city": "Paris", "temp_c": 18, "sky": "clear"}
    assert oai_stream.inputs["messages"][-1] == {
        "role": "tool",
        "tool_call_id": run.weather_call["id"],
        "content": json.dumps({"city": "Paris", "temp_c": 18, "sky": "clear"}),
    }
    assert oai_stream.outputs["object"] == "chat.completion"  # the chunks folded into one response
    assert oai_stream.outputs["choices"][0]["message"] == {"role": "assistant", "content": ANSWER, "refusal": None}
    assert oai_stream.attributes["tracekit.stream.chunks"] > 1

    # the failure the app survived: ERROR span with its exception event, trace still OK
    assert oai_failed.outputs is None and "500" in (oai_failed.status_message or "")
    [event] = [e for e in oai_failed.events if e["name"] == "exception"]
    assert event["attributes"]["exception.type"].endswith("InternalServerError")

    # Anthropic: streamed tool use, then a plain call with the tool result
    assert claude_stream.inputs["system"] == SYSTEM
    assert claude_stream.inputs["tools"] == [MUSEUM_TOOL]
    assert json.loads(claude_stream.attributes["mlflow.chat.tools"])[0]["function"]["name"] == "find_museum"
    tool_use = next(b for b in claude_stream.outputs["content"] if b["type"] == "tool_use")
    assert {k: tool_use[k] for k in ("id", "name", "input")} == run.museum_call
    assert run.museum_call["input"] == {"city": "Paris", "topic": "impressionism"}
    assert claude_stream.outputs["stop_reason"] == "tool_use"
    assert claude_reply.inputs["messages"][-1]["content"][0]["tool_use_id"] == run.museum_call["id"]
    assert claude_reply.outputs["content"] == [{"type": "text", "text": ANSWER, "citations": None}]
    assert claude_reply.outputs["role"] == "assistant"

    # Gemini: streamed chunks accumulated into one response; the other with a tool declared
    assert gem_stream.inputs["contents"] == [{"role": "user", "parts": [{"text": QUESTION}]}]
    assert gem_stream.inputs["config"]["system_instruction"] == SYSTEM
    assert gem_stream.outputs["candidates"][0]["content"] == {"role": "model", "parts": [{"text": ANSWER}]}
    assert "".join(run.texts[4]) == ANSWER
    assert json.loads(gem_reply.attributes["mlflow.chat.tools"])[0]["function"]["name"] == "get_weather"
    assert gem_reply.outputs["candidates"][0]["content"]["parts"] == [{"text": ANSWER}]

    # -- the failing trace: the error propagated out of the root, so the trace is ERROR --
    failed = rest.get_trace(mlflow_server.uri, failed_id)
    assert failed is not None
    assert _raw_info(mlflow_server.uri, failed_id)["state"] == "ERROR"
    assert [(s.name, s.span_type, s.status) for s in failed.spans] == [
        ("flaky_agent", "CHAIN", "ERROR"),
        (f"chat {ANTHROPIC_MODEL}", "CHAT_MODEL", "ERROR"),
    ]
    for s in failed.spans:
        [event] = [e for e in s.events if e["name"] == "exception"]
        assert "overloaded" in event["attributes"]["exception.message"].lower()
    assert failed.spans[1].parent_id == failed.spans[0].span_id

    # the UI's trace list filters on these
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert exp_id is not None
    found = rest.search_trace_infos(mlflow_server.uri, exp_id, f"tags.mlflow.traceName = '{TRACE_NAME}'")
    assert [t["trace_id"] for t in found] == [run.trace_id]
