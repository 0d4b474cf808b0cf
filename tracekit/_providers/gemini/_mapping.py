"""google-genai requests and responses -> the call record: inputs, tool definitions,
generation parameters; the response as JSON, usage, finish reasons, safety blocks.

Pure functions over the keyword arguments of ``Models._generate_content`` (and
friends): ``model``, ``contents``, ``config``. They never mutate or consume what the
app passed; google-genai types are only imported lazily, inside the functions that
need them, so importing this module imports no SDK.

Shapes follow the SDK: pydantic values are dumped with
``model_dump(mode="json", exclude_none=True)`` (snake_case, bytes as base64), which
is what MLflow's UI reads for ``mlflow.message.format=gemini``.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Mapping
from typing import Any

from tracekit._llm import CallRecord, Usage

#: config fields never recorded: ``http_options`` carries headers (API keys, gateway
#: tokens) and a base URL that may hold credentials; the others are client-side
#: switches that are never sent (google-genai 3.4.0 itself adds
#: ``automatic_function_calling={"disable": True}`` to the config of chat turns)
_CONFIG_SKIP = frozenset(
    {"http_options", "should_return_http_response", "automatic_function_calling", "automatic_continuation"}
    # the camelCase aliases, as a dict config the SDK's model does not validate keeps them
    | {"httpOptions", "shouldReturnHttpResponse", "automaticFunctionCalling", "automaticContinuation"}
)

#: GenerateContentConfig field -> the call record's field (gen_ai.request.*)
_PARAMS = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("max_output_tokens", "max_tokens"),
    ("stop_sequences", "stop"),
    ("seed", "seed"),
    ("frequency_penalty", "frequency_penalty"),
    ("presence_penalty", "presence_penalty"),
    ("candidate_count", "choice_count"),
)


# --- generic values ---------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """A JSON-able copy of ``value`` in the SDK's shape; odd values fall back to ``repr``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, type):
        # a pydantic class given as response_schema: record its JSON schema
        schema = getattr(value, "model_json_schema", None)
        if callable(schema):
            try:
                return schema()
            except Exception:  # not a schema we can render; its name says enough
                pass
        return value.__qualname__
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:
            # a field the SDK itself cannot encode (a callable, an image): field by field
            fields = getattr(type(value), "model_fields", {})
            return {name: to_json(getattr(value, name, None)) for name in fields if getattr(value, name, None) is not None}
    if isinstance(value, (bytes, bytearray)):
        return f"<bytes {len(value)} bytes>"
    if callable(value):
        return getattr(value, "__qualname__", None) or repr(value)
    return repr(value)


# --- contents --------------------------------------------------------------------------


def _has_image(contents: Any) -> bool:
    items = contents if isinstance(contents, list) else [contents]
    return any("image" in type(item).__name__.lower() for item in items)


def contents_json(contents: Any) -> Any:
    """The contents as the SDK sends them: a list of ``{"role", "parts"}`` dicts.

    ``"hi"`` becomes ``[{"role": "user", "parts": [{"text": "hi"}]}]`` through the SDK's
    own normalization (``t_contents``). Anything it does not take as is (an iterator,
    which normalizing would consume; a PIL image, which it would re-encode) is
    recorded without normalization.
    """
    # Fast path, same result: text-only contents built by hand. The SDK's normalization
    # (pydantic-validating every dict) and a model_dump per content cost ~50 µs on the
    # app's thread for a one-line prompt (google-genai 3.6); these shapes are what
    # t_contents + model_dump(mode="json", exclude_none=True) give for them
    # (tests/gemini/test_contents_fast_path.py compares both over many shapes).
    if type(contents) is str:
        return [{"parts": [{"text": contents}], "role": "user"}]
    if type(contents) is list and contents:
        if all(type(item) is str for item in contents):
            return [{"parts": [{"text": item} for item in contents], "role": "user"}]
        fast: list[Any] | None = []
        for item in contents:
            parts = item.get("parts") if type(item) is dict and len(item) == 2 else None
            role = item.get("role") if parts is not None else None
            if type(parts) is not list or type(role) is not str:
                fast = None
                break
            texts = []
            for part in parts:
                text = part.get("text") if type(part) is dict and len(part) == 1 else None
                if type(text) is not str:
                    fast = None
                    break
                texts.append({"text": text})
            if fast is None:
                break
            fast.append({"parts": texts, "role": role})
        if fast is not None:
            return fast
    if (
        not isinstance(contents, (str, list))
        and getattr(contents, "model_dump", None) is None
        and not isinstance(contents, Mapping)
    ):
        return to_json(contents)
    if _has_image(contents):
        return to_json(contents)
    try:
        from google.genai import _transformers

        normalized = _transformers.t_contents(contents)
    except Exception:  # the SDK will reject these contents itself; record them as given
        return to_json(contents)
    return [to_json(content) for content in normalized]


# --- config and tools ------------------------------------------------------------------


def _as_config(config: Any) -> Any:
    """A dict config validated into ``GenerateContentConfig`` (keys canonical), else as is."""
    if not isinstance(config, Mapping):
        return config
    try:
        from google.genai import types

        return types.GenerateContentConfig.model_validate(dict(config))
    except Exception:  # the SDK will report the bad config; record it as given
        return config


def _is_function(tool: Any) -> bool:
    return inspect.isfunction(tool) or inspect.ismethod(tool)


def tool_json(tool: Any, api_client: Any = None) -> Any:
    """One entry of ``config.tools`` in the SDK's shape. A Python function (automatic
    function calling) becomes ``{"function_declarations": [...]}`` through the SDK's own
    conversion (``t_tool``, JSON-schema parameters), so the record shows what was sent."""
    if _is_function(tool):
        try:
            from google.genai import _transformers

            return to_json(_transformers.t_tool(api_client, tool))
        except Exception:  # no client to convert with, or an SDK without t_tool: name it
            return {"function": getattr(tool, "__qualname__", repr(tool))}
    return to_json(tool)


def config_json(config: Any, api_client: Any = None) -> Any:
    """``config`` without ``http_options``, every value in the SDK's JSON shape."""
    if config is None:
        return None
    config = _as_config(config)
    if isinstance(config, Mapping):
        return {str(k): to_json(v) for k, v in config.items() if k not in _CONFIG_SKIP and v is not None}
    fields = getattr(type(config), "model_fields", None)
    if fields is None:
        return to_json(config)
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(config, name, None)
        if value is None or name in _CONFIG_SKIP:
            continue
        if name == "tools" and isinstance(value, list):
            out[name] = [tool_json(tool, api_client) for tool in value]
        else:
            out[name] = to_json(value)
    return out


def _parameters_schema(declaration: Mapping[str, Any]) -> Any:
    """A declaration's parameters as plain JSON schema (``parameters_json_schema`` as
    is; the SDK's ``Schema`` with its upper-case OpenAPI types converted)."""
    if declaration.get("parameters_json_schema") is not None:
        return declaration["parameters_json_schema"]
    schema = declaration.get("parameters")
    if schema is None:
        return None
    try:
        from google.genai import types

        return to_json(types.Schema.model_validate(schema).json_schema)
    except Exception:  # an SDK without Schema.json_schema: the OpenAPI form is close enough
        return schema


def chat_tools(config_data: Any) -> list[dict[str, Any]]:
    """Function declarations of a recorded config as OpenAI-style tools
    (``{"type": "function", "function": {"name", "description", "parameters"}}``),
    the form ``mlflow.chat.tools`` takes. Built-in tools (search, code execution) are
    not functions and stay in the inputs only."""
    if not isinstance(config_data, Mapping):
        return []
    tools = config_data.get("tools")
    result: list[dict[str, Any]] = []
    for tool in tools if isinstance(tools, list) else []:
        declarations = tool.get("function_declarations") if isinstance(tool, Mapping) else None
        for declaration in declarations if isinstance(declarations, list) else []:
            if not isinstance(declaration, Mapping) or not declaration.get("name"):
                continue
            function: dict[str, Any] = {"name": declaration["name"]}
            if declaration.get("description"):
                function["description"] = declaration["description"]
            parameters = _parameters_schema(declaration)
            if parameters is not None:
                function["parameters"] = parameters
            result.append({"type": "function", "function": function})
    return result


def request_params(record: CallRecord, config_data: Any) -> None:
    """The generation parameters (``gen_ai.request.*``) and the output type."""
    if not isinstance(config_data, Mapping):
        return
    for name, field in _PARAMS:
        if config_data.get(name) is not None:
            setattr(record, field, config_data[name])
    mime = config_data.get("response_mime_type")
    if isinstance(mime, str):
        record.output_type = "json" if mime.endswith("json") else "text" if mime.startswith("text/") else mime
    elif config_data.get("response_modalities") == ["IMAGE"]:
        record.output_type = "image"


# --- the client -----------------------------------------------------------------------


def is_vertexai(instance: Any) -> bool:
    return bool(getattr(getattr(instance, "_api_client", None), "vertexai", False))


def base_url(instance: Any, config: Any) -> Any:
    """The base URL this request goes to: the request's ``http_options.base_url`` when
    set, else the client's (google-genai keeps it on ``_api_client._http_options``)."""
    options = config.get("http_options") if isinstance(config, Mapping) else getattr(config, "http_options", None)
    override = options.get("base_url") if isinstance(options, Mapping) else getattr(options, "base_url", None)
    if override:
        return override
    client_options = getattr(getattr(instance, "_api_client", None), "_http_options", None)
    return getattr(client_options, "base_url", None)


# --- responses ------------------------------------------------------------------------

#: not part of the model's answer: ``sdk_http_response`` holds the HTTP response
#: headers, ``automatic_function_calling_history`` is written by the SDK's own
#: function-calling loop after the model call returned (google-genai 3.4.0 sets it on
#: the very chunk objects it yields, so it must be excluded when a stream ends)
_RESPONSE_SKIP = frozenset({"sdk_http_response", "automatic_function_calling_history"})


def response_json(response: Any) -> dict[str, Any]:
    """A ``GenerateContentResponse`` (or ``EmbedContentResponse``) in the SDK's JSON shape."""
    try:
        data = response.model_dump(mode="json", exclude_none=True, exclude=set(_RESPONSE_SKIP))
    except Exception:
        # ``parsed`` holds the app's own pydantic object when a response_schema was
        # given; one the SDK cannot encode is left out rather than losing the response
        data = response.model_dump(mode="json", exclude_none=True, exclude={*_RESPONSE_SKIP, "parsed"})
    return dict(data)


# --- recording --------------------------------------------------------------------------


def usage(data: Mapping[str, Any]) -> dict[str, int] | None:
    """Token counts of a response's ``usage_metadata``, mapped to tracekit's usage.

    * input = ``prompt_token_count`` (which already includes cached tokens) plus
      ``tool_use_prompt_token_count``;
    * output = ``candidates_token_count`` plus ``thoughts_token_count``: Gemini bills
      thinking as output, so cost and totals come out right; the thinking share is
      also reported as reasoning tokens;
    * total = ``total_token_count`` as reported;
    * cache_read = ``cached_content_token_count``.
    """
    meta = data.get("usage_metadata")
    if not isinstance(meta, Mapping):
        return None

    def count(key: str) -> int | None:
        value = meta.get(key)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    prompt, tool_prompt = count("prompt_token_count"), count("tool_use_prompt_token_count")
    candidates, thoughts = count("candidates_token_count"), count("thoughts_token_count")
    if prompt is None and candidates is None and count("total_token_count") is None:
        return None
    result = {
        "input": (prompt or 0) + (tool_prompt or 0),
        "output": (candidates or 0) + (thoughts or 0),
    }
    total = count("total_token_count")
    result["total"] = total if total is not None else result["input"] + result["output"]
    cached = count("cached_content_token_count")
    if cached is not None:
        result["cache_read"] = cached
    if thoughts is not None:
        result["reasoning"] = thoughts
    return result


def finish_reasons(data: Mapping[str, Any]) -> list[str]:
    """Each candidate's finish reason; for a blocked prompt (no candidates), the block reason."""
    reasons = [str(c["finish_reason"]) for c in data.get("candidates") or [] if isinstance(c, Mapping) and c.get("finish_reason")]
    block = block_reason(data)
    if not reasons and block:
        reasons.append(block)
    return reasons


def finished(data: Mapping[str, Any]) -> bool:
    """True when the response says it is over: a candidate's finish reason or a prompt block."""
    return bool(finish_reasons(data))


def block_reason(data: Mapping[str, Any]) -> str | None:
    feedback = data.get("prompt_feedback")
    reason = feedback.get("block_reason") if isinstance(feedback, Mapping) else None
    return str(reason) if reason else None


def record_response(record: CallRecord, data: Mapping[str, Any], requested_model: Any) -> None:
    """Outputs, served model, response id, finish reasons, safety block and usage."""
    record.outputs = data
    record.request_model = requested_model
    record.response_model = data.get("model_version")
    if data.get("response_id"):
        record.response_id = str(data["response_id"])
    reasons = finish_reasons(data)
    if reasons:
        record.finish_reasons = reasons
    block = block_reason(data)
    if block:
        record.block_reason = block
    counts = usage(data)
    if counts is not None:
        record.usage = Usage(
            counts["input"],
            counts["output"],
            counts["total"],
            cache_read=counts.get("cache_read"),
            reasoning=counts.get("reasoning"),
        )
