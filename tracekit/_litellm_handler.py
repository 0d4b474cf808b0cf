"""The LiteLLM callback: one span per request through LiteLLM Proxy or the LiteLLM SDK.

LiteLLM calls a ``CustomLogger`` *after* each call, with everything about it in
``kwargs["standard_logging_object"]`` (LiteLLM's ``StandardLoggingPayload``) and
``kwargs["litellm_params"]`` (the proxy's incoming request: its body and headers). The
span is therefore built after the fact, with LiteLLM's own start and end times, and
through the same OpenAI mapping as tracekit's client-side spans (LiteLLM's requests and
responses are OpenAI-shaped on its unified route).

Written against litellm 1.106.12. Facts measured there (see shared/MLFLOW_SERVER.md):

* the proxy calls only the async hooks (in its event loop); ``litellm.completion`` calls
  only the sync ones (in a ``litellm-logging`` thread); ``litellm.acompletion`` the async
  ones. A streamed call is logged once, with the accumulated response.
* the proxy adds its own ``metadata`` to the request body it hands over (it holds
  ``user_api_key`` — the caller's key or its hash — and internal objects): the body is
  recorded without it.
* ``kwargs["api_key"]`` / ``litellm_params["api_key"]`` are the upstream key: never read.

Every hook runs guarded: an internal error is reported through :mod:`tracekit._errors`
and the proxy goes on; the hooks only build a span (export is in the background).
"""

from __future__ import annotations

import atexit
import signal
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from tracekit import _config, _errors, _tracer
from tracekit._llm import OP_CHAT, OP_EMBEDDINGS, OP_TEXT_COMPLETION, CallRecord, Deployment, write
from tracekit._providers.openai import _mapping as mapping
from tracekit._span import NOOP_SPAN, SpanType, open_span

#: request-body keys never recorded: the proxy's own metadata (holds the caller's key
#: or its hash), credentials a client may pass through, transport settings
_DROPPED_BODY_KEYS = frozenset(
    {"metadata", "litellm_metadata", "api_key", "extra_headers", "timeout", "aws_secret_access_key", "vertex_credentials"}
)
_SECRET_WORDS = ("key", "secret", "token", "password", "credential", "authorization")
_NOT_SECRETS = frozenset({"max_tokens", "max_completion_tokens", "max_output_tokens", "prompt_cache_key"})

#: LiteLLM ``call_type`` -> (gen_ai operation, span type) of the OpenAI-shaped routes; any other
#: call type (``anthropic_messages``, ``aresponses``, ``image_generation``…) is recorded
#: generically: the request body and LiteLLM's logged response as they are, usage from LiteLLM
_OPERATIONS: Mapping[str, tuple[str, str]] = {
    "completion": (OP_CHAT, SpanType.CHAT_MODEL.value),
    "acompletion": (OP_CHAT, SpanType.CHAT_MODEL.value),
    "text_completion": (OP_TEXT_COMPLETION, SpanType.LLM.value),
    "atext_completion": (OP_TEXT_COMPLETION, SpanType.LLM.value),
    "embedding": (OP_EMBEDDINGS, SpanType.EMBEDDING.value),
    "aembedding": (OP_EMBEDDINGS, SpanType.EMBEDDING.value),
}

_REDACTED = "redacted-by-litellm"  # what LiteLLM logs instead of content when message logging is off

#: monotonic time the process began shutting down (exit hook or SIGTERM), else None
_exiting_since: float | None = None


def _on_exit() -> None:
    """Mark the shutdown: from now on each span is flushed as it ends (within ``exit_timeout``)."""
    global _exiting_since
    if _exiting_since is None:
        _exiting_since = time.monotonic()


_exit_hook_registered = False


def _register_exit_hook() -> None:
    """Run :func:`_drain_litellm_at_exit` at exit, *before* tracekit's own exit drain.

    Registered after tracekit's runtime registered its drain (``atexit`` runs last in,
    first out): see :func:`_start_runtime_early`. Needed because LiteLLM's logging worker
    (litellm 1.106 ``GLOBAL_LOGGING_WORKER``) runs the callbacks still queued at exit from
    an ``atexit`` hook registered when litellm was imported -- so after tracekit's drain,
    when the runtime cannot start again (the OpenTelemetry SDK's resource detection needs
    a thread pool, refused after interpreter shutdown began)."""
    global _exit_hook_registered
    if not _exit_hook_registered:
        _exit_hook_registered = True
        atexit.register(_drain_litellm_at_exit)


def _drain_litellm_at_exit() -> None:
    _on_exit()
    try:
        from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER
    except ImportError:  # another LiteLLM layout: its own exit flush still runs (after ours)
        return
    try:
        import asyncio

        # LoggingWorker.flush() (public) carries a queue left by a closed loop onto this one
        # and waits until every queued callback ran; bounded by tracekit's exit budget
        timeout = _config.get().exit_timeout
        asyncio.run(asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), timeout))
    except Exception:
        _errors.logger.debug("tracekit: could not run LiteLLM's queued callbacks at exit", exc_info=True)


def _chain_sigterm() -> None:
    """Drain on SIGTERM too. uvicorn (>= 0.29, the proxy's server) handles SIGTERM by
    shutting down gracefully, then restores the default handler and raises SIGTERM
    again: the process dies of it and no ``atexit`` hook runs (measured with litellm
    1.106.12 / uvicorn 0.55.0). So, when a Python handler owns SIGTERM at import time, ours
    runs first: it marks the shutdown (each span recorded from then on is flushed as it
    ends) and flushes what is queued on a helper thread, then calls that handler.
    Nothing changes when SIGTERM has its default or ignored disposition."""
    try:
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous) or getattr(previous, "_tracekit", False):
            return

        def on_sigterm(signum: int, frame: Any) -> None:
            try:
                _on_exit()
                threading.Thread(target=_flush_if_exiting, name="tracekit-sigterm-flush", daemon=True).start()
            except Exception:
                pass  # a signal handler must never fail the app's own handling
            previous(signum, frame)

        on_sigterm._tracekit = True  # type: ignore[attr-defined]
        signal.signal(signal.SIGTERM, on_sigterm)
    except (ValueError, OSError, AttributeError):
        pass  # not the main thread, or a platform without SIGTERM: the exit hook still drains


def _start_runtime_early() -> None:
    """Start tracekit's runtime now, so that its exit drain is registered before ours and
    runs after it: our exit hook then runs LiteLLM's queued callbacks while the runtime
    is still up, even when no call was recorded before exit (an app whose only calls were
    ``acompletion``, still queued). A proxy starts it on its first request anyway."""
    with _errors.handle_internal_errors("litellm.start"):
        _tracer.ensure_pipeline()
    _register_exit_hook()


_chain_sigterm()
_start_runtime_early()


def _flush_if_exiting() -> None:
    if _exiting_since is None:
        return
    budget = _config.get().exit_timeout - (time.monotonic() - _exiting_since)
    if budget > 0:
        _tracer.flush(budget)


class TracekitLogger(CustomLogger):  # type: ignore[misc]
    """A LiteLLM ``CustomLogger`` that records one tracekit span per LiteLLM call.

    Use the ready instance :data:`tracekit.litellm.handler`: in the proxy's config
    (``litellm_settings: callbacks: ["tracekit.litellm.handler"]``) or with the SDK
    (``litellm.callbacks = [tracekit.litellm.handler]``).
    """

    def __init__(self) -> None:
        super().__init__()
        # (call id, outcome, start) of recent calls: a call is recorded once even should
        # LiteLLM call both the sync and the async hook for it
        self._seen: set[tuple[Any, ...]] = set()
        self._order: deque[tuple[Any, ...]] = deque()
        self._lock = threading.Lock()

    # --- the hooks LiteLLM calls (sync: SDK; async: proxy and SDK's acompletion) ---------
    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=False)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=True)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=False)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any) -> None:
        self._record(kwargs, response_obj, start_time, end_time, failed=True)

    def _record(self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any, *, failed: bool) -> None:
        with _errors.handle_internal_errors("litellm.callback"):
            if not isinstance(kwargs, Mapping) or self._already_seen(kwargs, start_time, failed):
                return
            record_call(kwargs, response_obj, start_time, end_time, failed=failed)
            _flush_if_exiting()

    def _already_seen(self, kwargs: Mapping[str, Any], start_time: Any, failed: bool) -> bool:
        key = (kwargs.get("litellm_call_id"), failed, str(start_time))
        with self._lock:
            if key in self._seen:
                return True
            self._seen.add(key)
            self._order.append(key)
            if len(self._order) > 4096:
                self._seen.discard(self._order.popleft())
        return False


# --- building the span ------------------------------------------------------------------


def record_call(kwargs: Mapping[str, Any], response_obj: Any, start_time: Any, end_time: Any, *, failed: bool) -> None:
    """Build and end the span of one LiteLLM call from its callback data."""
    payload = _mapping(kwargs.get("standard_logging_object"))
    litellm_params = _mapping(kwargs.get("litellm_params"))
    metadata = _mapping(litellm_params.get("metadata"))
    server_request = _mapping(litellm_params.get("proxy_server_request"))
    body = _mapping(server_request.get("body"))
    headers = server_request.get("headers") or metadata.get("headers")

    call_type = str(payload.get("call_type") or kwargs.get("call_type"))
    operation, span_type = _OPERATIONS.get(call_type, (call_type, SpanType.LLM.value))
    openai_shaped = call_type in _OPERATIONS
    requested = body.get("model") or payload.get("model_group") or kwargs.get("model") or payload.get("model")
    start_ns, end_ns = _time_ns(start_time, payload.get("startTime")), _time_ns(end_time, payload.get("endTime"))
    name = f"litellm {operation} {requested}" if requested else f"litellm {operation}"

    span = open_span(name, span_type, start_time_ns=start_ns, remote_parent=headers if headers else None)
    if span is NOOP_SPAN:
        return
    with _errors.handle_internal_errors("litellm.record"):
        record = CallRecord()
        _record_request(record, kwargs, payload, body, operation, openai_shaped)
        _record_deployment(record, kwargs, payload, metadata)
        if failed:
            _record_failure(record, kwargs, payload, end_ns)
        else:
            _record_response(record, response_obj, payload, operation, openai_shaped)
            _record_stream(record, kwargs, payload, start_ns)
        write(span, record)
        # after the response: its body names the proxy's alias, not the model that served it
        record.request_model = requested
        record.response_model = _served_model(payload, metadata, payload.get("custom_llm_provider"))
        if getattr(span.otel_span, "parent", True) is None:  # a root: group it by LiteLLM's session/user
            record.session_id = _session_id(payload, metadata, litellm_params)
            record.user_id = _user_id(payload)
        write(span, record)
    span.end(end_ns)


def _record_request(
    record: CallRecord,
    kwargs: Mapping[str, Any],
    payload: Mapping[str, Any],
    body: Mapping[str, Any],
    operation: str,
    openai: bool,
) -> None:
    record.operation = operation
    if body:  # the proxy: the request as the client sent it
        request = {k: v for k, v in body.items() if _recorded_key(k)}
    else:  # the SDK: the call's model, messages and parameters as LiteLLM logged them
        request = {"model": kwargs.get("model"), "messages": kwargs.get("messages") or kwargs.get("input")}
        params = payload.get("model_parameters")
        if isinstance(params, Mapping):
            request.update((k, v) for k, v in params.items() if _recorded_key(k))
        request = {k: v for k, v in request.items() if v is not None}
    if payload.get("messages") == _REDACTED:  # LiteLLM's message logging is off: respect it
        for key in ("messages", "input", "prompt"):
            if key in request:
                request[key] = _REDACTED
    record.inputs = mapping.request_inputs(request)
    mapping.request_parameters(record, request)
    if openai and operation != OP_EMBEDDINGS:
        record.output_type = mapping.output_type(request)
        record.message_format = "openai"
    record.tools = mapping.tool_definitions(request)


def _record_deployment(
    record: CallRecord, kwargs: Mapping[str, Any], payload: Mapping[str, Any], metadata: Mapping[str, Any]
) -> None:
    """Which deployment served the call, what it cost, and who asked (never their key)."""
    provider = payload.get("custom_llm_provider") or kwargs.get("custom_llm_provider")
    hidden = _mapping(payload.get("hidden_params"))
    key_meta = _mapping(payload.get("metadata"))
    record.deployment = Deployment(
        call_id=payload.get("litellm_call_id") or kwargs.get("litellm_call_id"),
        model_group=payload.get("model_group"),
        deployment=hidden.get("litellm_model_name") or payload.get("model"),
        cache_hit=bool(payload.get("cache_hit")),
        attempted_retries=metadata.get("attempted_retries"),
        attempted_fallbacks=metadata.get("attempted_fallbacks"),
        key_alias=key_meta.get("user_api_key_alias"),
        team_id=key_meta.get("user_api_key_team_id"),
        team_alias=key_meta.get("user_api_key_team_alias"),
        user_id=key_meta.get("user_api_key_user_id"),
        org_id=key_meta.get("user_api_key_org_id"),
        end_user=payload.get("end_user") or None,
        overhead_ms=hidden.get("litellm_overhead_time_ms"),
        api_base=payload.get("api_base") or hidden.get("api_base"),
    )
    if provider:
        record.provider = provider
    _record_cost(record, payload)


def _record_response(record: CallRecord, response_obj: Any, payload: Mapping[str, Any], operation: str, openai: bool) -> None:
    data = payload.get("response")
    if not isinstance(data, Mapping):  # no payload (an old LiteLLM): the response object's own JSON
        data = mapping.to_dict(response_obj)
    if not isinstance(data, Mapping):
        if data is not None:
            record.outputs = data  # e.g. "redacted-by-litellm"
        return
    if not openai:
        record.outputs = data
    elif operation == OP_EMBEDDINGS:
        mapping.record_embeddings_response(record, data)
    else:
        mapping.record_choices_response(record, data)
    if (not openai or data.get("usage") is None) and payload.get("total_tokens"):
        mapping.record_openai_usage(
            record,
            {k: payload.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
        )


def _record_stream(record: CallRecord, kwargs: Mapping[str, Any], payload: Mapping[str, Any], start_ns: int | None) -> None:
    if not (payload.get("stream") or kwargs.get("stream")):
        return
    record.stream = True
    first = payload.get("completionStartTime")
    if isinstance(first, (int, float)) and start_ns is not None:
        first_ns = int(first * 1e9)
        ttft_ms = round((first_ns - start_ns) / 1e6, 3)
        if ttft_ms >= 0:
            record.first_token = (ttft_ms, first_ns)


def _record_failure(record: CallRecord, kwargs: Mapping[str, Any], payload: Mapping[str, Any], end_ns: int | None) -> None:
    exc = kwargs.get("exception")
    info = _mapping(payload.get("error_information"))
    message = payload.get("error_str") or info.get("error_message") or (str(exc) if exc is not None else "LiteLLM call failed")
    error_type = info.get("error_class") or (type(exc).__name__ if exc is not None else "litellm.error")
    record.error_type = str(error_type)
    status = getattr(exc, "status_code", None) or info.get("error_code")
    try:
        record.http_status = int(status) if status is not None else None
    except (TypeError, ValueError):
        pass
    record.exception = (str(error_type), str(message), end_ns)
    record.error_message = f"{error_type}: {message}"[:1000]


def _record_cost(record: CallRecord, payload: Mapping[str, Any]) -> None:
    """LiteLLM's cost in MLflow's shape. A zero cost on a call that was not a cache hit
    means LiteLLM could not price the model: nothing is recorded, so MLflow may price it."""
    total = payload.get("response_cost")
    if not isinstance(total, (int, float)) or (total <= 0 and not payload.get("cache_hit")):
        return
    breakdown = _mapping(payload.get("cost_breakdown"))
    input_cost = output_cost = None
    if breakdown:
        input_cost = float(sum(breakdown.get(k) or 0.0 for k in ("input_cost", "cache_read_cost", "cache_creation_cost")))
        output_cost = float(breakdown.get("output_cost") or 0.0)
    # the same keys as every LLM span's cost; the source marks it as the gateway's own,
    # so the export thread's price table never prices it again
    record.cost = (input_cost, output_cost, float(total), "litellm")


# --- small readers ----------------------------------------------------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _recorded_key(key: Any) -> bool:
    """False for request keys that are not the client's request: the proxy's additions
    (``metadata``, ``litellm_call_id``, ``litellm_trace_id``…), transport settings and
    anything named like a credential."""
    name = str(key).lower()
    if name in _DROPPED_BODY_KEYS or name.startswith("litellm_"):
        return False
    return name in _NOT_SECRETS or not any(word in name for word in _SECRET_WORDS)


def _time_ns(value: Any, fallback: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1e9)  # LiteLLM's are naive local times: timestamp() reads them so
    if isinstance(fallback, (int, float)) and fallback > 0:
        return int(fallback * 1e9)
    return None


def _served_model(payload: Mapping[str, Any], metadata: Mapping[str, Any], provider: Any) -> Any:
    """The model the provider says served the call, else the deployment's model without
    LiteLLM's ``provider/`` prefix."""
    hidden = _mapping(metadata.get("hidden_params"))
    served = hidden.get("provider_response_model")
    if served:
        return served
    model = payload.get("model")
    if isinstance(model, str) and provider and model.startswith(f"{provider}/"):
        return model[len(provider) + 1 :]
    return model


def _session_id(payload: Mapping[str, Any], metadata: Mapping[str, Any], litellm_params: Mapping[str, Any]) -> Any:
    requester = _mapping(metadata.get("requester_metadata"))
    for value in (
        litellm_params.get("litellm_session_id"),
        payload.get("session_id"),
        requester.get("session_id"),
        metadata.get("session_id"),
    ):
        if value:
            return str(value)
    return None


def _user_id(payload: Mapping[str, Any]) -> Any:
    key_meta = _mapping(payload.get("metadata"))
    value = payload.get("end_user") or key_meta.get("user_api_key_end_user_id")
    return str(value) if value else None
