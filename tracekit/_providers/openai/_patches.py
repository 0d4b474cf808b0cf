"""The openai endpoints (what each traced SDK method records), the patch table and
``autolog`` (the public face is ``tracekit.openai``; what is traced and how to use it:
its docstring and ``docs/openai.md``).

Written against openai 3.54.0. The SDK objects whose data arrives after the patched
call returned (streams, ``.stream()`` managers and their helper streams, raw and
streaming responses) are the Stainless shapes anthropic shares: proxied once, in
:mod:`tracekit._llm._stainless`; here they are only declared (:data:`CHAT_STREAM`,
:data:`RESPONSES_STREAM`). ``with_raw_response`` reads a non-streamed body at once:
``on_response`` parses it for the span (the SDK caches ``parse()``, so the app gets
the same object).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from tracekit import _llm
from tracekit._llm import OP_CHAT, OP_EMBEDDINGS, OP_TEXT_COMPLETION, UNSET
from tracekit._llm import _stainless as stainless
from tracekit._llm._call import Call, Endpoint
from tracekit._providers.openai import _accumulate as accumulate
from tracekit._providers.openai import _mapping as mapping
from tracekit._span_handle import SpanType

__all__ = ["autolog"]

logger = logging.getLogger("tracekit")

PROVIDER = "openai"
#: OpenTelemetry's ``gen_ai.provider.name`` for Azure OpenAI; MLflow (and the LiteLLM
#: price table it computes cost with) calls the same provider ``azure``
AZURE_GEN_AI_PROVIDER = "azure.ai.openai"
AZURE_LLM_PROVIDER = "azure"

#: the helper streams of ``chat.completions.stream()`` and ``responses.stream()``
CHAT_STREAM = stainless.StreamHelper(final_getters=("get_final_completion",))
RESPONSES_STREAM = stainless.StreamHelper(final_getters=("get_final_response",))


def _is_azure(client: Any) -> bool:
    return any(cls.__name__ in ("AzureOpenAI", "AsyncAzureOpenAI") for cls in type(client).__mro__)


def _raw_response_kind(obj: Any) -> str | None:
    """``legacy`` for ``with_raw_response`` results, ``deferred`` for
    ``with_streaming_response`` ones (body not read yet), else None."""
    try:
        from openai._legacy_response import LegacyAPIResponse
        from openai._response import BaseAPIResponse
    except ImportError:  # a future SDK that moved them: no raw-response support, never a failure
        return None
    if isinstance(obj, LegacyAPIResponse):
        return "legacy"
    if isinstance(obj, BaseAPIResponse):
        return "deferred"
    return None


class OpenAIEndpoint(Endpoint):
    """What every OpenAI endpoint records about its request; subclasses map the response."""

    provider: ClassVar[str] = PROVIDER
    message_format: ClassVar[str | None] = "openai"

    def on_request(self, call: Call, instance: Any, args: tuple[Any, ...], kwargs: Any) -> None:
        record = call.record
        client = getattr(instance, "_client", None)
        if _is_azure(client):
            record.provider = AZURE_GEN_AI_PROVIDER
            record.llm_provider = AZURE_LLM_PROVIDER
        record.base_url = getattr(client, "base_url", None)
        record.inputs = mapping.request_inputs(kwargs)
        record.request_model = kwargs.get("model")
        # both or neither (as one attribute write before): the output type may fail to map
        kind = mapping.output_type(kwargs) if self.span_type != SpanType.EMBEDDING.value else UNSET
        mapping.request_parameters(record, kwargs)
        record.output_type = kind
        record.tools = mapping.tool_definitions(kwargs)
        call.state["stream"] = kwargs.get("stream") is True

    def wrap(self, call: Call, result: Any) -> Any:
        return stainless.wrap(call, result)

    def on_response(self, call: Call, result: Any) -> None:
        if result is None:  # a raw response closed unread
            return
        if _raw_response_kind(result) == "legacy":
            result = result.parse()  # cached by the SDK: the app's parse() returns this same object
        self.record(call, mapping.to_dict(result))

    def on_stream_end(self, call: Call, stream: Any, complete: bool) -> None:
        data = self.accumulate(call, stream)
        if data is not None:
            self.record(call, data)
            if complete and not self.finished(data):
                # the SDK iterated to the end, but the server stopped early (no finish
                # reason / no terminal event, e.g. a proxy cut the stream before [DONE])
                call.record.incomplete = True

    def accumulate(self, call: Call, stream: Any) -> Any:
        """The stream's output in the non-streamed response's JSON shape."""
        return None

    def finished(self, data: Any) -> bool:
        """Whether an accumulated stream output says the server finished it."""
        choices = data.get("choices") if isinstance(data, dict) else None
        return any(isinstance(c, dict) and c.get("finish_reason") for c in choices or [])

    def record(self, call: Call, data: Any) -> None:
        """Record a response given as the SDK's JSON dict."""


class ChatEndpoint(OpenAIEndpoint):
    """``chat.completions.create`` / ``parse``."""

    span_type: ClassVar[str] = SpanType.CHAT_MODEL.value
    operation: ClassVar[str] = OP_CHAT

    def accumulate(self, call: Call, stream: Any) -> Any:
        return accumulate.accumulate_chat(call.chunks)

    def record(self, call: Call, data: Any) -> None:
        mapping.record_choices_response(call.record, data)


class ResponsesEndpoint(OpenAIEndpoint):
    """``responses.create`` / ``parse`` (and ``stream()``: its events accumulate the same)."""

    span_type: ClassVar[str] = SpanType.CHAT_MODEL.value
    operation: ClassVar[str] = OP_CHAT

    def accumulate(self, call: Call, stream: Any) -> Any:
        return accumulate.accumulate_responses(call.chunks)

    def finished(self, data: Any) -> bool:
        return isinstance(data, dict) and data.get("status") in ("completed", "incomplete", "failed", "cancelled")

    def record(self, call: Call, data: Any) -> None:
        mapping.record_responses_response(call.record, data)


class CompletionsEndpoint(OpenAIEndpoint):
    """The legacy ``completions.create``."""

    span_type: ClassVar[str] = SpanType.LLM.value
    operation: ClassVar[str] = OP_TEXT_COMPLETION

    def accumulate(self, call: Call, stream: Any) -> Any:
        return accumulate.accumulate_completions(call.chunks)

    def record(self, call: Call, data: Any) -> None:
        mapping.record_choices_response(call.record, data)


class EmbeddingsEndpoint(OpenAIEndpoint):
    """``embeddings.create``."""

    span_type: ClassVar[str] = SpanType.EMBEDDING.value
    operation: ClassVar[str] = OP_EMBEDDINGS
    message_format: ClassVar[str | None] = None  # no chat to draw

    def record(self, call: Call, data: Any) -> None:
        mapping.record_embeddings_response(call.record, data)


class ChatStreamHelperEndpoint(ChatEndpoint):
    """``chat.completions.stream()``: the manager is the traced call's result."""

    def on_request(self, call: Call, instance: Any, args: tuple[Any, ...], kwargs: Any) -> None:
        super().on_request(call, instance, args, kwargs)
        call.record.stream = True
        call.state["stream"] = True

    def wrap(self, call: Call, result: Any) -> Any:
        return stainless.wrap(call, result, CHAT_STREAM)

    def on_chunk(self, call: Call, chunk: Any) -> None:
        """Nothing per event: the SDK's stream accumulates its own snapshot, read at the end."""

    def accumulate(self, call: Call, stream: Any) -> Any:
        helper = call.state.get("helper")
        if helper is None:
            return None
        try:
            snapshot = helper.current_completion_snapshot
        except AssertionError:  # openai 3.54.0 asserts when no chunk arrived yet
            return None
        data = mapping.to_dict(snapshot)
        return accumulate.tidy_chat_snapshot(data) if isinstance(data, dict) else None


class ResponsesStreamHelperEndpoint(ResponsesEndpoint):
    """``responses.stream()``: the manager is the traced call's result; the helper's
    events carry the raw events' fields, so they accumulate like ``create(stream=True)``."""

    def on_request(self, call: Call, instance: Any, args: tuple[Any, ...], kwargs: Any) -> None:
        super().on_request(call, instance, args, kwargs)
        call.record.stream = True
        call.state["stream"] = True

    def wrap(self, call: Call, result: Any) -> Any:
        return stainless.wrap(call, result, RESPONSES_STREAM)


# --- the patch table -------------------------------------------------------------------

_CHAT = "openai.resources.chat.completions.completions"
_RESPONSES = "openai.resources.responses.responses"
_EMBEDDINGS = "openai.resources.embeddings"
_COMPLETIONS = "openai.resources.completions"

_chat = ChatEndpoint()
_chat_stream = ChatStreamHelperEndpoint()
_responses = ResponsesEndpoint()
_responses_stream = ResponsesStreamHelperEndpoint()
_embeddings = EmbeddingsEndpoint()
_completions = CompletionsEndpoint()
#: hands each traced call the headers of its HTTP response (openai 3.x ``_process_response``:
#: the one method every endpoint's response passes, streamed or not, raw or parsed)
_tap = _llm.ResponseTap()
_BASE = "openai._base_client"

#: The one table that drives both ``autolog()`` and ``autolog(disable=True)``. A row
#: missing from the installed SDK is skipped alone. The ``stream()`` helpers are sync
#: methods on the async resources too (they return an async context manager).
PATCHES: tuple[_llm.Patch, ...] = (
    _llm.Patch(_CHAT, "Completions", "create", _chat),
    _llm.Patch(_CHAT, "AsyncCompletions", "create", _chat, is_async=True),
    _llm.Patch(_CHAT, "Completions", "parse", _chat),
    _llm.Patch(_CHAT, "AsyncCompletions", "parse", _chat, is_async=True),
    _llm.Patch(_CHAT, "Completions", "stream", _chat_stream),
    _llm.Patch(_CHAT, "AsyncCompletions", "stream", _chat_stream),
    _llm.Patch(_RESPONSES, "Responses", "create", _responses),
    _llm.Patch(_RESPONSES, "AsyncResponses", "create", _responses, is_async=True),
    _llm.Patch(_RESPONSES, "Responses", "parse", _responses),
    _llm.Patch(_RESPONSES, "AsyncResponses", "parse", _responses, is_async=True),
    _llm.Patch(_RESPONSES, "Responses", "stream", _responses_stream),
    _llm.Patch(_RESPONSES, "AsyncResponses", "stream", _responses_stream),
    _llm.Patch(_EMBEDDINGS, "Embeddings", "create", _embeddings),
    _llm.Patch(_EMBEDDINGS, "AsyncEmbeddings", "create", _embeddings, is_async=True),
    _llm.Patch(_COMPLETIONS, "Completions", "create", _completions),
    _llm.Patch(_COMPLETIONS, "AsyncCompletions", "create", _completions, is_async=True),
    _llm.Patch(_BASE, "SyncAPIClient", "_process_response", _tap),
    _llm.Patch(_BASE, "AsyncAPIClient", "_process_response", _tap),
)


def autolog(disable: bool = False) -> None:
    """Trace every OpenAI SDK call (or stop: ``disable=True`` removes every patch).

    Idempotent; works before or after ``import openai`` and before or after clients
    were created (the SDK's classes are patched, not its instances). Raises
    ``ImportError`` when the ``openai`` package is missing.

    >>> import tracekit
    >>> tracekit.openai.autolog()
    >>> tracekit.openai.autolog(disable=True)
    """
    if disable:
        removed = _llm.remove(PATCHES)
        logger.debug("tracekit: openai autolog off (%d methods unpatched)", len(removed))
        return
    try:
        import openai  # noqa: F401
    except ImportError:
        raise ImportError("tracekit.openai.autolog() needs the openai package: pip install 'tracekit[openai]'") from None
    applied = _llm.apply(PATCHES)
    logger.debug("tracekit: openai autolog on (%d methods patched)", len(applied))
