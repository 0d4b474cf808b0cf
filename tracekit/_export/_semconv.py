"""The call as every OpenTelemetry backend reads it: GenAI message attributes and
OpenInference keys, derived from what tracekit recorded.

tracekit records each call once, as MLflow reads it (``mlflow.spanInputs`` = the
request as the SDK sent it, ``mlflow.spanOutputs`` = the response, ``mlflow.message.format``
= whose wire format). Backends other than MLflow read other keys:

* ``genai``: the OpenTelemetry GenAI semantic conventions' content attributes in their
  "parts" JSON form (semconv 1.37+): ``gen_ai.input.messages``, ``gen_ai.output.messages``,
  ``gen_ai.system_instructions``, ``gen_ai.tool.definitions``.
* ``openinference``: the keys Arize Phoenix and other OpenInference backends read:
  ``openinference.span.kind``, ``input.value``/``output.value`` with mime types,
  ``llm.input_messages.*``/``llm.output_messages.*`` (tool calls included),
  ``llm.model_name``, ``llm.provider``, ``llm.system``, ``llm.token_count.*``,
  ``llm.invocation_parameters``, ``llm.tools.*``.

Both are derived here, in the export thread, from the recorded attributes: the app's
thread pays nothing for them, the local store and MLflow keep exactly what they had,
and content capture off or masking applies to every family because the source is the
already-masked record. Each message list is normalized once and encoded once per
family. Pure functions; nothing here raises for odd data (a shape it does not know
is skipped, the rest still mapped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit import _errors
from tracekit._messages import Conversation, compact_json, conversation_of, finish_reason, loads, text_part

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["FAMILIES", "parse_families", "semconv_attributes", "with_semconv"]

FAMILIES = ("genai", "openinference")

_KINDS = {
    "LLM": "LLM",
    "CHAT_MODEL": "LLM",
    "EMBEDDING": "EMBEDDING",
    "RETRIEVER": "RETRIEVER",
    "RERANKER": "RERANKER",
    "TOOL": "TOOL",
    "AGENT": "AGENT",
    "GUARDRAIL": "GUARDRAIL",
    "EVALUATOR": "EVALUATOR",
    "UNKNOWN": "UNKNOWN",
}
#: OpenInference's ``llm.provider`` / ``llm.system`` for tracekit's provider names
_OI_PROVIDER = {"openai": ("openai", "openai"), "anthropic": ("anthropic", "anthropic"), "gemini": ("google", "vertexai")}
#: request keys that are the conversation or the model, not invocation parameters
_NOT_PARAMETERS = frozenset(
    {"messages", "model", "tools", "input", "instructions", "prompt", "system", "contents", "config", "stream"}
)


def parse_families(text: str | None) -> tuple[str, ...]:
    """``genai,openinference`` (the default), one of them, or ``none``.

    >>> parse_families("openinference")
    ('openinference',)
    """
    if text is None or not text.strip():
        return FAMILIES
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if names == ("none",):
        return ()
    unknown = [name for name in names if name not in FAMILIES]
    if unknown:
        raise ValueError(f"TRACEKIT_OTLP_ATTRIBUTES={text!r}: expected a comma-separated list of {', '.join(FAMILIES)}, or none")
    return names


def semconv_attributes(attributes: Mapping[str, Any], families: Sequence[str] = FAMILIES) -> dict[str, Any]:
    """The attributes to add to a span with ``attributes`` (keys it has already win)."""
    out: dict[str, Any] = {}
    if not families:
        return out
    span_type = str(attributes.get(attr.SPAN_TYPE) or "UNKNOWN")
    inputs = loads(attributes.get(attr.SPAN_INPUTS))
    outputs = loads(attributes.get(attr.SPAN_OUTPUTS))
    fmt = attributes.get(attr.MESSAGE_FORMAT)
    conversation = conversation_of(fmt, inputs, outputs, attributes) if fmt else None
    tools = loads(attributes.get(attr.CHAT_TOOLS))
    tools = tools if isinstance(tools, list) else []
    if "genai" in families and conversation is not None:
        messages, system, outputs_messages = conversation
        outputs_messages = [{**m, "finish_reason": finish_reason(m.get("finish_reason"))} for m in outputs_messages]
        if messages:
            out[attr.GEN_AI_INPUT_MESSAGES] = compact_json(messages)
        if system:
            out[attr.GEN_AI_SYSTEM_INSTRUCTIONS] = compact_json(system)
        if outputs_messages:
            out[attr.GEN_AI_OUTPUT_MESSAGES] = compact_json(outputs_messages)
        if tools:
            out[attr.GEN_AI_TOOL_DEFINITIONS] = compact_json([_flat_tool(t) for t in tools])
    if "openinference" in families:
        out.update(_openinference(attributes, span_type, conversation, tools, inputs, outputs))
    return {key: value for key, value in out.items() if key not in attributes}


def _flat_tool(tool: Any) -> Any:
    """An OpenAI-style ``{"type":"function","function":{...}}`` as semconv's flat definition."""
    function = tool.get("function") if isinstance(tool, Mapping) else None
    if isinstance(function, Mapping):
        return {"type": "function", **function}
    return tool


# --- OpenInference ---------------------------------------------------------------------------


def _oi_messages(prefix: str, messages: Sequence[Mapping[str, Any]], into: dict[str, Any]) -> None:
    for i, message in enumerate(messages):
        base = f"{prefix}.{i}.message"
        into[f"{base}.role"] = str(message.get("role"))
        texts: list[str] = []
        calls = 0
        for part in message.get("parts") or []:
            kind = part.get("type")
            if kind in ("text", "reasoning"):
                texts.append(str(part.get("content") or ""))
            elif kind == "tool_call":
                call = f"{base}.tool_calls.{calls}.tool_call"
                calls += 1
                if part.get("id"):
                    into[f"{call}.id"] = str(part["id"])
                into[f"{call}.function.name"] = str(part.get("name"))
                arguments = part.get("arguments")
                into[f"{call}.function.arguments"] = compact_json(arguments if arguments is not None else {})
            elif kind == "tool_call_response":
                if part.get("id"):
                    into[f"{base}.tool_call_id"] = str(part["id"])
                response = part.get("response")
                texts.append(response if isinstance(response, str) else compact_json(response))
        if texts:
            into[f"{base}.content"] = "\n".join(texts)


def _openinference(
    attributes: Mapping[str, Any],
    span_type: str,
    conversation: Conversation | None,
    tools: list[Any],
    inputs: Any,
    outputs: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"openinference.span.kind": _KINDS.get(span_type, "CHAIN")}
    for key, target, parsed in ((attr.SPAN_INPUTS, "input", inputs), (attr.SPAN_OUTPUTS, "output", outputs)):
        value = attributes.get(key)
        if isinstance(value, str):
            out[f"{target}.value"] = value
            out[f"{target}.mime_type"] = "application/json" if parsed is not None or value == "null" else "text/plain"
    model = attributes.get(attr.GEN_AI_RESPONSE_MODEL) or attributes.get(attr.GEN_AI_REQUEST_MODEL)
    if model:
        out["llm.model_name"] = str(model)
    provider = attributes.get(attr.LLM_PROVIDER)
    if provider:
        oi_provider, oi_system = _OI_PROVIDER.get(str(provider), (str(provider), str(provider)))
        out["llm.provider"] = oi_provider
        out["llm.system"] = oi_system
    usage = loads(attributes.get(attr.TOKEN_USAGE))
    if isinstance(usage, Mapping):
        for source, target in (
            (attr.USAGE_INPUT, "llm.token_count.prompt"),
            (attr.USAGE_OUTPUT, "llm.token_count.completion"),
            (attr.USAGE_TOTAL, "llm.token_count.total"),
            (attr.USAGE_CACHE_READ, "llm.token_count.prompt_details.cache_read"),
            (attr.USAGE_CACHE_CREATION, "llm.token_count.prompt_details.cache_write"),
            (attr.USAGE_REASONING, "llm.token_count.completion_details.reasoning"),
        ):
            if isinstance(usage.get(source), int):
                out[target] = usage[source]
    reasoning = attributes.get(attr.GEN_AI_USAGE_REASONING)
    if isinstance(reasoning, int):
        out.setdefault("llm.token_count.completion_details.reasoning", reasoning)
    if span_type in ("LLM", "CHAT_MODEL") and isinstance(inputs, Mapping):
        parameters = {k: v for k, v in inputs.items() if k not in _NOT_PARAMETERS}
        config = inputs.get("config")
        if isinstance(config, Mapping):
            parameters.update({k: v for k, v in config.items() if k not in ("tools", "system_instruction", "systemInstruction")})
        out["llm.invocation_parameters"] = compact_json(parameters)
    if conversation is not None:
        messages, system, outputs = conversation
        if system:
            text = "\n".join(str(p.get("content") or "") for p in system)
            messages = [{"role": "system", "parts": [text_part(text)]}, *messages]
        _oi_messages("llm.input_messages", messages, out)
        _oi_messages("llm.output_messages", outputs, out)
    for i, tool in enumerate(tools):
        out[f"llm.tools.{i}.tool.json_schema"] = compact_json(tool)
    return out


def with_semconv(spans: Sequence[ReadableSpan], families: Sequence[str]) -> list[ReadableSpan]:
    """``spans`` with the attributes of ``families`` added (a span whose mapping fails
    is sent as it was: one odd span never costs the others their export)."""
    from tracekit._export._encode import _with_attributes

    out: list[ReadableSpan] = []
    for span in spans:
        try:
            extra = semconv_attributes(span.attributes or {}, families)
        except Exception:
            _errors.report("export.semconv")
            extra = {}
        out.append(_with_attributes(span, {**(span.attributes or {}), **extra}) if extra else span)
    return out
