"""A Gemini chat with a tool call (automatic function calling) and a streamed answer,
traced under one CHAIN span: one CHAT_MODEL span per model request.

Runs offline against tracekit's fake LLM server; drop the server and ``http_options``
(or point ``base_url`` at your gateway) to trace real calls.

Run: python examples/gemini_app.py   (then `tracekit traces list`)
"""

from __future__ import annotations

from google import genai
from google.genai import types

import tracekit
from tracekit.testing._fakeserver import FakeLLMServer

MODEL = "gemini-2.5-flash"


def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
      city: The city.
    """
    with tracekit.start_span("get_weather", span_type=tracekit.SpanType.TOOL, inputs={"city": city}) as span:
        span.set_outputs("4 C, light rain")
        return "4 C, light rain"


@tracekit.trace
def answer(client: genai.Client, question: str) -> str:
    chat = client.chats.create(model=MODEL)
    # 1) automatic function calling: the SDK calls the model, runs get_weather, and calls
    #    the model again -- two CHAT_MODEL spans and a TOOL span between them
    chat.send_message(
        question,
        config=types.GenerateContentConfig(
            tools=[get_weather],
            automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=2),
        ),
    )
    # 2) the answer, streamed: one span with the chunks merged into one response
    text_reply = types.GenerateContentConfig(http_options=types.HttpOptions(headers={"x-fake-scenario": "text"}))
    stream = chat.send_message_stream("Summarize that in one line.", config=text_reply)
    return "".join(chunk.text or "" for chunk in stream)


def main() -> None:
    tracekit.gemini.autolog()
    # the fake server answers with a get_weather call unless a request asks for text
    with FakeLLMServer("tool_call", tool_arguments={"city": "Oslo"}) as server:
        client = genai.Client(api_key="test", http_options=types.HttpOptions(base_url=server.url_for("/gateway/gemini")))
        print(answer(client, "What is the weather in Oslo?"))
        client.close()
    trace = tracekit.get_trace(tracekit.get_last_trace_id() or "")
    for span in sorted(trace.spans, key=lambda s: s.start_time_ns) if trace else []:
        print(f"{span.span_type:<10} {span.name:<34} {span.attributes.get('mlflow.chat.tokenUsage', '')}")


if __name__ == "__main__":
    main()
