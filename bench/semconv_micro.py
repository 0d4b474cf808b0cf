"""What the OTLP attribute families (GenAI messages + OpenInference keys) cost per span.

They are derived on the export thread, never on the app's; this measures that
background CPU per span for a realistic chat span (system + user + assistant tool call
+ tool result, a tool definition, a 2 KB answer), median over many runs.

    .venv/bin/python bench/semconv_micro.py
"""

from __future__ import annotations

import json
import statistics
import time

from tracekit._export._semconv import semconv_attributes

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "w", "parameters": {"type": "object"}}}]
INPUTS = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. " * 20},
        {"role": "user", "content": "What is the weather in Oslo? " * 10},
        {
            "role": "assistant",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp_c": 4}'},
    ],
    "tools": TOOLS,
    "temperature": 0.2,
}
OUTPUTS = {
    "id": "chatcmpl-1",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "It is 4 degrees. " * 120}}],
    "usage": {"prompt_tokens": 120, "completion_tokens": 480, "total_tokens": 600},
}
ATTRIBUTES = {
    "mlflow.spanType": "CHAT_MODEL",
    "mlflow.message.format": "openai",
    "mlflow.spanInputs": json.dumps(INPUTS),
    "mlflow.spanOutputs": json.dumps(OUTPUTS),
    "mlflow.chat.tools": json.dumps(TOOLS),
    "mlflow.chat.tokenUsage": json.dumps({"input_tokens": 120, "output_tokens": 480, "total_tokens": 600}),
    "mlflow.llm.provider": "openai",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini",
    "gen_ai.response.finish_reasons": ("stop",),
}


def main() -> None:
    for _ in range(200):
        semconv_attributes(ATTRIBUTES)
    samples = []
    for _ in range(31):
        start = time.perf_counter()
        for _ in range(200):
            semconv_attributes(ATTRIBUTES)
        samples.append((time.perf_counter() - start) / 200 * 1e6)
    extra = semconv_attributes(ATTRIBUTES)
    size = sum(len(str(v)) for v in extra.values())
    print(
        f"semconv families: median {statistics.median(samples):.1f} us per span (export thread), {len(extra)} keys, {size} chars"
    )


if __name__ == "__main__":
    main()
