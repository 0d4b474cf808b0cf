"""``tracekit demo``: a small traced agent against the built-in fake LLM server.

It starts the fake server on 127.0.0.1, turns on autolog for every installed SDK,
runs one ``@trace``'d agent -- an OpenAI tool-calling round trip with a streamed
answer, a streamed Anthropic tool use, a Gemini stream -- and prints the trace tree
from the local store. Nothing leaves the machine.

This module is the app; ``_demo`` adds the subcommand to the CLI and imports this
module only when the subcommand runs.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import tracekit
from tracekit._redact import redact_url

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


@tracekit.trace(span_type=tracekit.SpanType.TOOL)
def get_weather(city: str) -> dict[str, Any]:
    """The agent's tool: a canned forecast."""
    return {"city": city, "temp_c": 18, "sky": "clear"}


def _openai_round_trip(base_url: str, question: str) -> str:
    from openai import OpenAI

    client: Any = OpenAI(base_url=base_url, api_key="demo-key", max_retries=0)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a helpful travel assistant."},
        {"role": "user", "content": question},
    ]
    first = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        tools=[WEATHER_TOOL],
        extra_headers={"x-fake-scenario": "tool_call"},
    )
    message = first.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls or []:
        args = json.loads(call.function.arguments or "{}")
        result = get_weather(args.get("city", "Paris"))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def _anthropic_tool_use(base_url: str, question: str) -> str:
    from anthropic import Anthropic

    client: Any = Anthropic(base_url=base_url, api_key="demo-key", max_retries=0)
    tool = {
        "name": "get_weather",
        "description": "Current weather for a city",
        "input_schema": WEATHER_TOOL["function"]["parameters"],
    }
    with client.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=256,
        system="You are a helpful travel assistant.",
        messages=[{"role": "user", "content": question}],
        tools=[tool],
        extra_headers={"x-fake-scenario": "tool_call"},
    ) as stream:
        message = stream.get_final_message()
    return ", ".join(f"{b.name}({json.dumps(b.input)})" for b in message.content if b.type == "tool_use")


def _gemini_stream(base_url: str, question: str) -> str:
    from google import genai
    from google.genai import types

    client: Any = genai.Client(api_key="demo-key", http_options=types.HttpOptions(base_url=base_url))
    chunks = client.models.generate_content_stream(
        model="gemini-2.5-flash",
        contents=question,
        config=types.GenerateContentConfig(system_instruction="Answer briefly.", temperature=0.2),
    )
    return "".join(chunk.text or "" for chunk in chunks)


def run_agent(server: Any, providers: list[str]) -> str | None:
    """Run the demo agent once; returns the trace id."""

    @tracekit.trace(name="travel_agent", span_type=tracekit.SpanType.AGENT)
    def travel_agent(question: str) -> dict[str, str]:
        tracekit.update_current_trace(session_id="demo-session", user_id="demo-user", tags={"app": "tracekit-demo"})
        answers: dict[str, str] = {}
        if "openai" in providers:
            answers["openai"] = _openai_round_trip(server.openai_base_url, question)
        if "anthropic" in providers:
            answers["anthropic"] = _anthropic_tool_use(server.anthropic_base_url, question)
        if "gemini" in providers:
            answers["gemini"] = _gemini_stream(server.gemini_base_url, question)
        return answers

    travel_agent("What's the weather in Paris?")
    return tracekit.get_last_trace_id()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracekit demo", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--io", action="store_true", help="also print each span's inputs and outputs")
    parser.add_argument("--store", help="the local store to write (default: the configured one)")
    parser.add_argument("--color", dest="color", action="store_const", const=True, default=None)
    parser.add_argument("--no-color", dest="color", action="store_const", const=False)
    args = parser.parse_args(argv)
    if args.store:
        tracekit.set_tracking_uri(f"sqlite:///{Path(args.store).expanduser().resolve()}")

    from tracekit.testing import FakeLLMServer

    providers = tracekit.autolog()
    settings = tracekit.get_settings()
    if not settings.is_local:
        print(f"tracekit demo: traces go to {redact_url(settings.tracking_uri)}", file=sys.stderr)
    with FakeLLMServer() as server:
        trace_id = run_agent(server, providers)
    result = tracekit.flush(timeout=10)
    if not providers:
        print("tracekit demo: no provider SDK installed (pip install 'tracekit[all]'): @trace spans only\n")
    if trace_id is None:
        print("tracekit demo: tracing is disabled (TRACEKIT_DISABLED or enabled=False)", file=sys.stderr)
        return 1
    if not settings.is_local:
        print(f"trace {trace_id}: {result}")
        return 0 if result.ok else 1
    from tracekit._cli import main as cli

    store = ["--store", str(settings.store_path)] if args.store else []
    color = [] if args.color is None else ["--color" if args.color else "--no-color"]
    print("tracekit demo: the LLM was tracekit's built-in fake server (no network, no key)")
    print(f"tracekit demo: one trace written to {settings.store_path}\n")
    code = cli([*store, *color, "traces", "show", trace_id, *(["--io"] if args.io else [])])
    command = " ".join([_tracekit_command(), *store])
    print("\nbrowse it again with:")
    for rest in ("traces list", f"traces show {trace_id[:11]} --chat", f"traces show {trace_id[:11]} --io"):
        print(f"  {command} {rest}")
    return code


def _tracekit_command() -> str:
    """How to run the ``tracekit`` command from here: its bare name when the shell finds
    this very installation, else its full path (a virtualenv that is not activated)."""
    import shutil

    beside = Path(sys.executable).parent / "tracekit"
    found = shutil.which("tracekit")
    if found and Path(found).resolve() == beside.resolve():
        return "tracekit"
    if beside.exists():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m tracekit"


if __name__ == "__main__":
    sys.exit(main())
