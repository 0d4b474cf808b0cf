"""The call record: what a provider found out about one LLM call, as typed fields, and
the one function that turns it into span attributes.

In the manner of OpenTelemetry's GenAI ``util-genai`` invocation object: a provider's
hooks fill :class:`CallRecord` fields (``call.record.request_model = ...``) and never
write an attribute key; the core (:mod:`._wrappers`, :mod:`._call`) calls
:func:`write` after each hook -- after ``on_request``, and once more after
``on_response`` / ``on_stream_end`` / ``on_error`` -- so request facts are on the span
at request time (a stream still open at exit is exported with them).

A field left :data:`UNSET` writes nothing; :func:`write` clears every field it wrote,
so a field set again in a later hook is written again, as an overwrite. None and
empty values keep the meaning they have as attributes (None is never written;
an empty tool list or finish-reason list neither).
"""

from __future__ import annotations

import functools
from typing import Any, Final
from urllib.parse import urlsplit

from tracekit import _attributes as attr
from tracekit._span_handle import Span


class _Unset:
    """The type of :data:`UNSET`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: "not set": the field writes nothing (None would, for some keys, mean "write nothing" too)
UNSET: Final[Any] = _Unset()


class Usage:
    """Token counts of one call (None: the server did not say)."""

    __slots__ = ("cache_creation", "cache_read", "input", "output", "reasoning", "total")

    def __init__(
        self,
        input: int | None,
        output: int | None,
        total: int | None = None,
        *,
        cache_read: int | None = None,
        cache_creation: int | None = None,
        reasoning: int | None = None,
    ) -> None:
        self.input = input
        self.output = output
        self.total = total
        self.cache_read = cache_read
        self.cache_creation = cache_creation
        self.reasoning = reasoning


class Deployment:
    """What a gateway's own callback knows about the call (LiteLLM's logging payload):
    which deployment served it, and who asked -- never their key."""

    __slots__ = (
        "api_base",
        "attempted_fallbacks",
        "attempted_retries",
        "cache_hit",
        "call_id",
        "deployment",
        "end_user",
        "key_alias",
        "model_group",
        "org_id",
        "overhead_ms",
        "team_alias",
        "team_id",
        "user_id",
    )

    call_id: Any
    model_group: Any
    deployment: Any
    cache_hit: Any
    attempted_retries: Any
    attempted_fallbacks: Any
    key_alias: Any
    team_id: Any
    team_alias: Any
    user_id: Any
    org_id: Any
    end_user: Any
    overhead_ms: Any
    #: the upstream the gateway called (recorded without credentials or query)
    api_base: Any

    def __init__(self, **fields: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, fields.pop(name, None))
        if fields:
            raise TypeError(f"unknown Deployment fields: {sorted(fields)}")


def _rare_field(name: str, doc: str) -> Any:
    """A field set on few calls: kept in the record's ``_rare`` dict, made on the first
    set, so a call that sets none costs :func:`write` one check instead of one per field."""

    def get(self: CallRecord) -> Any:
        rare = self._rare
        return UNSET if rare is None else rare.get(name, UNSET)

    def set_(self: CallRecord, value: Any) -> None:
        if self._rare is None:
            self._rare = {}
        self._rare[name] = value

    return property(get, set_, doc=doc)


class CallRecord:
    """The typed facts of one call, filled by the provider's hooks (every field starts
    :data:`UNSET`). Models and ids are written as given; request parameters by their
    semantic name (``max_tokens``, ``stop``, ``choice_count``).

    The fields most calls set are slots; the others (:func:`_rare_field`) read and set
    the same way."""

    __slots__ = (
        "_rare",
        "base_url",
        "finish_reasons",
        "incomplete",
        "inputs",
        "max_tokens",
        "message_format",
        "operation",
        "output_type",
        "outputs",
        "provider",
        "request_model",
        "response_id",
        "response_model",
        "stop",
        "stream",
        "temperature",
        "tools",
        "top_p",
        "usage",
    )

    def __init__(self) -> None:
        self._rare: dict[str, Any] | None = None
        #: gen_ai.operation.name; gen_ai.provider.name (also gen_ai.system and
        #: mlflow.llm.provider unless ``system`` / ``llm_provider`` say otherwise)
        self.operation: Any = UNSET
        self.provider: Any = UNSET
        self.message_format: Any = UNSET
        #: the client's base URL: server.address / server.port / tracekit.base_url / gateway path
        self.base_url: Any = UNSET
        #: the request as recorded (mlflow.spanInputs) and the response (mlflow.spanOutputs)
        self.inputs: Any = UNSET
        self.outputs: Any = UNSET
        self.request_model: Any = UNSET
        self.response_model: Any = UNSET
        self.response_id: Any = UNSET
        # request parameters (gen_ai.request.*; the rarer ones below)
        self.max_tokens: Any = UNSET
        self.temperature: Any = UNSET
        self.top_p: Any = UNSET
        self.stop: Any = UNSET
        self.output_type: Any = UNSET
        #: function tools, OpenAI-style (``{"type": "function", "function": {...}}``)
        self.tools: Any = UNSET
        self.usage: Usage | Any = UNSET
        self.finish_reasons: Any = UNSET
        #: True on a streamed call; True when a stream ended before the server finished it
        self.stream: Any = UNSET
        self.incomplete: Any = UNSET

    system = _rare_field("system", "gen_ai.system, when it differs from the provider name")
    llm_provider = _rare_field("llm_provider", "mlflow.llm.provider, when it differs from the provider name")
    top_k = _rare_field("top_k", "gen_ai.request.top_k")
    seed = _rare_field("seed", "gen_ai.request.seed")
    choice_count = _rare_field("choice_count", "gen_ai.request.choice.count")
    frequency_penalty = _rare_field("frequency_penalty", "gen_ai.request.frequency_penalty")
    presence_penalty = _rare_field("presence_penalty", "gen_ai.request.presence_penalty")
    embedding_dimension = _rare_field("embedding_dimension", "gen_ai.embeddings.dimension.count")
    block_reason = _rare_field("block_reason", "Gemini: promptFeedback.blockReason of a blocked prompt")
    error_type = _rare_field("error_type", "error.type of a failed call")
    http_status = _rare_field("http_status", "http.response.status_code of a failed call")
    error_message = _rare_field("error_message", "sets status ERROR with this description (an error in a 200 answer)")
    exception = _rare_field("exception", "an exception event without an exception object: (type, message, time_ns)")
    first_token = _rare_field("first_token", "time to first token known after the fact: (ms, time_ns of the token)")
    session_id = _rare_field("session_id", "session.id")
    user_id = _rare_field("user_id", "user.id")
    proxy_upstream = _rare_field("proxy_upstream", "the recording proxy: the upstream URL")
    user_agent = _rare_field("user_agent", "the recording proxy: the client's User-Agent")
    session_source = _rare_field("session_source", "the recording proxy: where session.id came from")
    not_recorded = _rare_field("not_recorded", "the recording proxy: why a response body is missing")
    deployment = _rare_field("deployment", "a gateway's own callback: :class:`Deployment`")
    cost = _rare_field("cost", "a gateway's cost: (input USD or None, output USD or None, total USD, source)")


def record_error(record: CallRecord, exc: BaseException) -> None:
    """HTTP status and error type of an SDK exception (``error.type``, ``http.response.status_code``)."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    record.error_type = type(exc).__qualname__
    if isinstance(status, int):
        record.http_status = status


# --- record -> attributes --------------------------------------------------------------


def write(span: Span, r: CallRecord) -> None:
    """Write every set field of ``r`` on ``span`` and clear it. Runs after each provider
    hook, on the app's thread: one check per common field, one for all the rare ones,
    one ``set_attributes`` call."""
    values: dict[str, Any] = {}
    if (v := r.operation) is not UNSET:
        values[attr.GEN_AI_OPERATION], r.operation = v, UNSET
    if (v := r.provider) is not UNSET:
        values[attr.GEN_AI_PROVIDER] = values[attr.GEN_AI_SYSTEM] = values[attr.LLM_PROVIDER] = v
        r.provider = UNSET
    if (v := r.message_format) is not UNSET:
        values[attr.MESSAGE_FORMAT], r.message_format = v, UNSET
    if (v := r.base_url) is not UNSET:
        r.base_url = UNSET
        server = _server_attributes(str(v)) if v is not None else None
        if server:
            values.update(server)
    if (v := r.inputs) is not UNSET:
        r.inputs = UNSET
        span.set_inputs(v)
    if (v := r.outputs) is not UNSET:
        r.outputs = UNSET
        span.set_outputs(v)
    if (v := r.request_model) is not UNSET:
        r.request_model = UNSET
        if v:
            values[attr.GEN_AI_REQUEST_MODEL] = values[attr.LLM_MODEL] = str(v)
    if (v := r.response_model) is not UNSET:
        r.response_model = UNSET
        if v:  # mlflow.llm.model is the model that served the call when known
            values[attr.GEN_AI_RESPONSE_MODEL] = values[attr.LLM_MODEL] = str(v)
    if (v := r.response_id) is not UNSET:
        values[attr.GEN_AI_RESPONSE_ID], r.response_id = v, UNSET
    if (v := r.max_tokens) is not UNSET:
        values[attr.GEN_AI_REQUEST_MAX_TOKENS], r.max_tokens = v, UNSET
    if (v := r.temperature) is not UNSET:
        values[attr.GEN_AI_REQUEST_TEMPERATURE], r.temperature = v, UNSET
    if (v := r.top_p) is not UNSET:
        values[attr.GEN_AI_REQUEST_TOP_P], r.top_p = v, UNSET
    if (v := r.stop) is not UNSET:
        values[attr.GEN_AI_REQUEST_STOP], r.stop = v, UNSET
    if (v := r.output_type) is not UNSET:
        values[attr.GEN_AI_OUTPUT_TYPE], r.output_type = v, UNSET
    if (v := r.tools) is not UNSET:
        r.tools = UNSET
        if v:
            values[attr.CHAT_TOOLS] = v
    if (v := r.usage) is not UNSET:
        r.usage = UNSET
        _usage_attributes(v, values)
    if (v := r.finish_reasons) is not UNSET:
        r.finish_reasons = UNSET
        if v:
            values[attr.GEN_AI_FINISH_REASONS] = v
    if (v := r.stream) is not UNSET:
        values[attr.STREAM], r.stream = v, UNSET
    if (v := r.incomplete) is not UNSET:
        values[attr.STREAM_INCOMPLETE], r.incomplete = v, UNSET
    if (rare := r._rare) is not None:
        r._rare = None
        _write_rare(span, rare, values)
    if values:
        span.set_attributes(values)


#: rare fields written as they are (field -> attribute key)
_RARE_KEYS: dict[str, str] = {
    "system": attr.GEN_AI_SYSTEM,
    "llm_provider": attr.LLM_PROVIDER,
    "top_k": attr.GEN_AI_REQUEST_TOP_K,
    "seed": attr.GEN_AI_REQUEST_SEED,
    "choice_count": attr.GEN_AI_REQUEST_CHOICE_COUNT,
    "frequency_penalty": attr.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": attr.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "embedding_dimension": attr.GEN_AI_EMBEDDINGS_DIMENSION,
    "block_reason": attr.GEMINI_BLOCK_REASON,
    "error_type": attr.ERROR_TYPE,
    "http_status": attr.HTTP_STATUS_CODE,
    "session_id": attr.SESSION_ID,
    "user_id": attr.USER_ID,
    "proxy_upstream": attr.PROXY_UPSTREAM,
    "user_agent": attr.USER_AGENT,
    "session_source": attr.PROXY_SESSION_SOURCE,
    "not_recorded": attr.PROXY_NOT_RECORDED,
}


def _write_rare(span: Span, rare: dict[str, Any], values: dict[str, Any]) -> None:
    """The rare fields, after the common ones (``system``/``llm_provider`` override
    what ``provider`` wrote)."""
    for name, v in rare.items():
        key = _RARE_KEYS.get(name)
        if key is not None:
            values[key] = v
        elif name == "exception":
            kind, text, time_ns = v
            span.add_event("exception", {"exception.type": str(kind), "exception.message": str(text)[:4000]}, time_ns)
        elif name == "error_message":
            span.set_status("ERROR", v)
        elif name == "first_token":
            ttft_ms, time_ns = v
            values[attr.STREAM_TTFT_MS] = ttft_ms
            span.add_event(attr.FIRST_TOKEN_EVENT, {"time_to_first_token_ms": ttft_ms}, time_ns)
        elif name == "deployment":
            _deployment_attributes(v, values)
        elif name == "cost":
            from tracekit._cost import cost_attributes

            values.update(cost_attributes(*v))


def _deployment_attributes(d: Deployment, values: dict[str, Any]) -> None:
    values.update(
        {
            attr.LITELLM_CALL_ID: d.call_id,
            attr.LITELLM_MODEL_GROUP: d.model_group,
            attr.LITELLM_DEPLOYMENT: d.deployment,
            attr.LITELLM_CACHE_HIT: d.cache_hit,
            attr.LITELLM_ATTEMPTED_RETRIES: d.attempted_retries,
            attr.LITELLM_ATTEMPTED_FALLBACKS: d.attempted_fallbacks,
            attr.LITELLM_KEY_ALIAS: d.key_alias,
            attr.LITELLM_TEAM_ID: d.team_id,
            attr.LITELLM_TEAM_ALIAS: d.team_alias,
            attr.LITELLM_USER_ID: d.user_id,
            attr.LITELLM_ORG_ID: d.org_id,
            attr.LITELLM_END_USER: d.end_user,
            attr.LITELLM_OVERHEAD_MS: d.overhead_ms,
        }
    )
    values.update(_api_base(d.api_base))


# --- the helpers: server, usage, upstream ---------------------------------------------------


@functools.lru_cache(maxsize=64)
def _server_attributes(base_url: str) -> dict[str, Any] | None:
    """The client's base URL as ``server.address`` / ``server.port`` and the path prefix
    (a gateway shows there: ``/gateway/openai/v1``, ``/serving-endpoints``)."""
    # cached: an app has a handful of base URLs, and urlsplit + .hostname + .port cost
    # ~10 µs per call (measured, CPython 3.11); callers only read the returned dict
    parts = urlsplit(base_url)
    if not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path.rstrip("/")
    # never record credentials or the query string (some gateways put keys there)
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return {
        attr.SERVER_ADDRESS: parts.hostname,
        attr.SERVER_PORT: port,
        attr.BASE_URL: f"{parts.scheme}://{netloc}{path}",
        attr.GATEWAY_PATH: path or "/",
    }


def _usage_attributes(u: Usage, values: dict[str, Any]) -> None:
    """Token usage on both ``mlflow.chat.tokenUsage`` and the ``gen_ai.usage.*`` keys."""
    input_tokens, output_tokens, total_tokens = u.input, u.output, u.total
    if input_tokens is None and output_tokens is None and total_tokens is None:
        return
    if total_tokens is None:
        total_tokens = (input_tokens or 0) + (output_tokens or 0)
    usage: dict[str, int] = {
        attr.USAGE_INPUT: int(input_tokens or 0),
        attr.USAGE_OUTPUT: int(output_tokens or 0),
        attr.USAGE_TOTAL: int(total_tokens),
    }
    values[attr.GEN_AI_USAGE_INPUT] = usage[attr.USAGE_INPUT]
    values[attr.GEN_AI_USAGE_OUTPUT] = usage[attr.USAGE_OUTPUT]
    if u.cache_read is not None:
        usage[attr.USAGE_CACHE_READ] = values[attr.GEN_AI_USAGE_CACHE_READ] = int(u.cache_read)
    if u.cache_creation is not None:
        usage[attr.USAGE_CACHE_CREATION] = values[attr.GEN_AI_USAGE_CACHE_CREATION] = int(u.cache_creation)
    if u.reasoning is not None:
        usage[attr.USAGE_REASONING] = values[attr.GEN_AI_USAGE_REASONING] = int(u.reasoning)
    values[attr.TOKEN_USAGE] = usage


def _api_base(api_base: Any) -> dict[str, Any]:
    """The upstream a gateway called, without credentials, query or fragment."""
    if not isinstance(api_base, str) or not api_base:
        return {}
    parts = urlsplit(api_base)
    if not parts.hostname:
        return {}
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return {
        attr.LITELLM_API_BASE: f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}",
        attr.SERVER_ADDRESS: parts.hostname,
        attr.SERVER_PORT: parts.port or (443 if parts.scheme == "https" else 80),
    }
