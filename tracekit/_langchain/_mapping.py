"""Pure functions from LangChain's run data (messages, LLM results, documents) to span data.

Duck-typed on purpose: the same code reads langchain-core 0.3 and 1.x objects, and a
field one release lacks is skipped, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: LangChain's tag for runs its own tracers hide (LangGraph's channel writers, branches)
HIDDEN_TAG = "langsmith:hidden"

#: top-level runs that are agents even before a graph node shows it
_AGENT_NAMES = frozenset({"LangGraph", "AgentExecutor"})


def run_name(serialized: Any, name: Any, default: str) -> str:
    """The run's name: LangChain's ``name`` (``run_name`` in the config), else the
    serialized object's name or class (``ChatOpenAI``), else ``default``."""
    if isinstance(name, str) and name:
        return name
    if isinstance(serialized, Mapping):
        named = serialized.get("name")
        if isinstance(named, str) and named:
            return named
        ids = serialized.get("id")
        if isinstance(ids, Sequence) and ids and isinstance(ids[-1], str):
            return ids[-1]
    return default


def is_agent(name: str, metadata: Mapping[str, Any] | None) -> bool:
    """A top-level run that is an agent: a LangGraph graph or an agent executor."""
    if name in _AGENT_NAMES:
        return True
    integration = (metadata or {}).get("ls_integration")
    return isinstance(integration, str) and "agent" in integration


def is_graph_node(metadata: Mapping[str, Any] | None) -> bool:
    return bool(metadata) and "langgraph_node" in metadata  # type: ignore[operator]


def message_dict(message: Any) -> Any:
    """A LangChain message as a compact dict: role, content, tool calls."""
    role = getattr(message, "type", None)
    if not isinstance(role, str):
        return message
    if role.endswith("MessageChunk"):  # a streamed message: AIMessageChunk -> ai
        role = role[: -len("MessageChunk")].lower()
    out: dict[str, Any] = {"role": role, "content": getattr(message, "content", None)}
    for key in ("name", "tool_call_id", "status"):
        value = getattr(message, key, None)
        if value:
            out[key] = value
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        out["tool_calls"] = [dict(call) for call in tool_calls]
    return out


def chat_inputs(messages: Any) -> dict[str, Any]:
    """``on_chat_model_start``'s ``messages`` (one list per prompt; LangChain passes one)."""
    batches = [[message_dict(m) for m in batch] for batch in messages or []]
    return {"messages": batches[0] if len(batches) == 1 else batches}


def prompt_inputs(prompts: Any) -> dict[str, Any]:
    items = list(prompts or [])
    return {"prompt": items[0] if len(items) == 1 else items}


def _generations(response: Any) -> list[Any]:
    return [g for batch in getattr(response, "generations", None) or [] for g in batch]


def llm_outputs(response: Any) -> Any:
    """What the model answered: the message (chat) or the text (LLM); a list when several."""
    outs = []
    for generation in _generations(response):
        message = getattr(generation, "message", None)
        outs.append(message_dict(message) if message is not None else getattr(generation, "text", None))
    return outs[0] if len(outs) == 1 else outs


def _add(total: dict[str, int], key: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        total[key] = total.get(key, 0) + value


def usage(response: Any) -> dict[str, int] | None:
    """Token usage of an LLM result: the messages' ``usage_metadata`` (langchain-core
    >= 0.2.2, every provider package), else ``llm_output['token_usage' | 'usage']``.
    Keys: input, output, total, cache_read, cache_creation, reasoning."""
    total: dict[str, int] = {}
    for generation in _generations(response):
        meta = getattr(getattr(generation, "message", None), "usage_metadata", None)
        if not isinstance(meta, Mapping):
            continue
        _add(total, "input", meta.get("input_tokens"))
        _add(total, "output", meta.get("output_tokens"))
        _add(total, "total", meta.get("total_tokens"))
        details = meta.get("input_token_details") or {}
        _add(total, "cache_read", details.get("cache_read"))
        _add(total, "cache_creation", details.get("cache_creation"))
        _add(total, "reasoning", (meta.get("output_token_details") or {}).get("reasoning"))
    if total:
        return total
    output = getattr(response, "llm_output", None)
    if not isinstance(output, Mapping):
        return None
    raw = output.get("token_usage") or output.get("usage")
    if not isinstance(raw, Mapping):
        return None
    _add(total, "input", raw.get("prompt_tokens", raw.get("input_tokens")))
    _add(total, "output", raw.get("completion_tokens", raw.get("output_tokens")))
    _add(total, "total", raw.get("total_tokens"))
    return total or None


def served_model(response: Any) -> str | None:
    """The model named in the answer (``response_metadata['model_name']``)."""
    for generation in _generations(response):
        meta = getattr(getattr(generation, "message", None), "response_metadata", None)
        if isinstance(meta, Mapping):
            name = meta.get("model_name") or meta.get("model")
            if isinstance(name, str) and name:
                return name
    output = getattr(response, "llm_output", None)
    if isinstance(output, Mapping):
        name = output.get("model_name") or output.get("model")
        if isinstance(name, str) and name:
            return name
    return None


def requested_model(metadata: Mapping[str, Any] | None, params: Mapping[str, Any] | None) -> str | None:
    """The model the run asked for: ``ls_model_name`` metadata, else the invocation params."""
    for source, keys in ((metadata, ("ls_model_name",)), (params, ("model", "model_name", "model_id"))):
        if isinstance(source, Mapping):
            for key in keys:
                value = source.get(key)
                if isinstance(value, str) and value:
                    return value
    return None


def documents(docs: Any) -> list[Any]:
    """Retrieved documents as ``{page_content, metadata, id}`` dicts."""
    out = []
    for doc in docs or []:
        item: dict[str, Any] = {"page_content": getattr(doc, "page_content", doc)}
        meta = getattr(doc, "metadata", None)
        if meta:
            item["metadata"] = meta
        doc_id = getattr(doc, "id", None)
        if doc_id:
            item["id"] = doc_id
        out.append(item)
    return out


def tool_output(output: Any) -> Any:
    """A tool's result: a ``ToolMessage``'s content (with its artifact), else the value."""
    if getattr(output, "type", None) == "tool" and hasattr(output, "content"):
        artifact = getattr(output, "artifact", None)
        return output.content if artifact is None else {"content": output.content, "artifact": artifact}
    return output


def chain_value(value: Any) -> Any:
    """Chain inputs/outputs: messages inside become compact dicts (one level deep)."""
    if isinstance(value, Mapping):
        return {k: _maybe_messages(v) for k, v in value.items()}
    return _maybe_messages(value)


def _maybe_messages(value: Any) -> Any:
    if isinstance(value, list) and value and hasattr(value[0], "type") and hasattr(value[0], "content"):
        return [message_dict(m) for m in value]
    if hasattr(value, "type") and hasattr(value, "content") and hasattr(value, "response_metadata"):
        return message_dict(value)
    return value
