"""The OpenAI endpoints (what each traced SDK method records) and the proxies for the
SDK objects whose data arrives after the patched call returned.

Written against openai 3.54.0. Three SDK shapes need more than the core's plain
stream proxy:

* **Stream helpers** (``chat.completions.stream()``, ``responses.stream()``) return a
  *manager*; the request leaves only at ``__enter__`` (sync: the manager calls the
  patched ``create`` then) and the helper's ``get_final_*()`` / ``until_done()``
  consume the stream internally, past any proxy of the raw stream. So the helper
  itself is the traced call: the manager is proxied, ``__enter__`` runs with nested
  calls suppressed (one span), and the stream it returns is proxied with the same
  finalize-once state and helpers that consume *through* the proxy.
* **``with_streaming_response``** returns an HTTP response whose body is read when the
  app calls ``parse()``: the proxy records the parsed result then (or hands a parsed
  stream on), and ends the span on ``close()`` / context exit if the app never parsed.
* **``with_raw_response``** reads the body at once: a non-streamed one is parsed for
  the span right away (the SDK caches ``parse()``, so the app gets the same object);
  a streamed one is proxied like the above.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tracekit._llm import OP_CHAT, OP_EMBEDDINGS, OP_TEXT_COMPLETION, UNSET
from tracekit._llm._call import Call, Endpoint, nested_calls_suppressed
from tracekit._llm._streams import END_CANCELLED, END_CLOSED, END_ERROR, AsyncStreamProxy, SyncStreamProxy, proxy_stream
from tracekit._providers.openai import _accumulate as accumulate
from tracekit._providers.openai import _mapping as mapping
from tracekit._span_handle import SpanType

PROVIDER = "openai"
#: OpenTelemetry's ``gen_ai.provider.name`` for Azure OpenAI; MLflow (and the LiteLLM
#: price table it computes cost with) calls the same provider ``azure``
AZURE_GEN_AI_PROVIDER = "azure.ai.openai"
AZURE_LLM_PROVIDER = "azure"


def _is_azure(client: Any) -> bool:
    return any(cls.__name__ in ("AzureOpenAI", "AsyncAzureOpenAI") for cls in type(client).__mro__)


def _is_sdk_stream(obj: Any) -> bool:
    from openai import AsyncStream, Stream

    return isinstance(obj, (Stream, AsyncStream))


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
        kind = _raw_response_kind(result)
        if kind == "deferred":
            is_async = type(result).__name__.startswith("Async")
            return (AsyncRawResponseProxy if is_async else RawResponseProxy)(result, call)
        if kind == "legacy":
            # the body is read already; only a stream still has data to come
            return RawResponseProxy(result, call) if call.state.get("stream") else result
        if _is_sdk_stream(result):
            return proxy_stream(call, result)
        return result

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
        if hasattr(result, "__aenter__"):
            return AsyncChatManagerProxy(result, call)
        if hasattr(result, "__enter__"):
            return ChatManagerProxy(result, call)
        return result

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
        if hasattr(result, "__aenter__"):
            return AsyncResponsesManagerProxy(result, call)
        if hasattr(result, "__enter__"):
            return ResponsesManagerProxy(result, call)
        return result


# --- proxies ----------------------------------------------------------------------------------


def _error_reason(exc: BaseException | None) -> str:
    if exc is None:
        return END_CLOSED
    return END_CANCELLED if type(exc).__name__ == "CancelledError" else END_ERROR


class _HelperStreamProxy(SyncStreamProxy):
    """A helper stream whose ``until_done()`` must drain through the proxy: the SDK's own
    drains its inner iterator, past the proxy, and the span would never see the end."""

    def until_done(self) -> Any:
        for _ in self:
            pass
        return self


class _AsyncHelperStreamProxy(AsyncStreamProxy):
    """The async twin of :class:`_HelperStreamProxy`."""

    async def until_done(self) -> Any:
        async for _ in self:
            pass
        return self


class ChatHelperStreamProxy(_HelperStreamProxy):
    """The ``ChatCompletionStream`` of ``chat.completions.stream()``."""

    def get_final_completion(self) -> Any:
        self.until_done()
        return self.__wrapped__.get_final_completion()


class AsyncChatHelperStreamProxy(_AsyncHelperStreamProxy):
    """The ``AsyncChatCompletionStream`` of ``chat.completions.stream()``."""

    async def get_final_completion(self) -> Any:
        await self.until_done()
        return await self.__wrapped__.get_final_completion()


class ResponsesHelperStreamProxy(_HelperStreamProxy):
    """The ``ResponseStream`` of ``responses.stream()``."""

    def get_final_response(self) -> Any:
        self.until_done()
        return self.__wrapped__.get_final_response()


class AsyncResponsesHelperStreamProxy(_AsyncHelperStreamProxy):
    """The ``AsyncResponseStream`` of ``responses.stream()``."""

    async def get_final_response(self) -> Any:
        await self.until_done()
        return await self.__wrapped__.get_final_response()


class _ManagerProxy(SyncStreamProxy):
    """A stream helper's manager. ``__enter__`` sends the request (nested patched calls
    suppressed: one span) and returns the helper stream, proxied on the same call."""

    _tk_stream_proxy: ClassVar[type] = SyncStreamProxy

    def __enter__(self) -> Any:
        try:
            with nested_calls_suppressed(self._self_state.call):
                stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            self._tk_finalize(_error_reason(exc), exc)
            raise
        call = self._self_state.call
        if call is not None:
            call.state["helper"] = stream
        return self._tk_handoff(stream, self._tk_stream_proxy)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._tk_finalize(_error_reason(exc), exc)


class _AsyncManagerProxy(AsyncStreamProxy):
    """The async twin of :class:`_ManagerProxy`."""

    _tk_stream_proxy: ClassVar[type] = AsyncStreamProxy

    async def __aenter__(self) -> Any:
        try:
            with nested_calls_suppressed(self._self_state.call):
                stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            self._tk_finalize(_error_reason(exc), exc)
            raise
        call = self._self_state.call
        if call is not None:
            call.state["helper"] = stream
        return self._tk_handoff(stream, self._tk_stream_proxy)

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._tk_finalize(_error_reason(exc), exc)


class ChatManagerProxy(_ManagerProxy):
    _tk_stream_proxy: ClassVar[type] = ChatHelperStreamProxy


class AsyncChatManagerProxy(_AsyncManagerProxy):
    _tk_stream_proxy: ClassVar[type] = AsyncChatHelperStreamProxy


class ResponsesManagerProxy(_ManagerProxy):
    _tk_stream_proxy: ClassVar[type] = ResponsesHelperStreamProxy


class AsyncResponsesManagerProxy(_AsyncManagerProxy):
    _tk_stream_proxy: ClassVar[type] = AsyncResponsesHelperStreamProxy


class RawResponseProxy(SyncStreamProxy):
    """A raw HTTP response whose data the app reads later: ``with_streaming_response``
    (sync) or a streamed ``with_raw_response`` (sync and async clients: the legacy
    response's ``parse()`` is synchronous in both)."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            parsed = self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            self._tk_end_unread(exc)
            raise
        return self._tk_parsed(parsed)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._tk_end_unread()

    def _tk_parsed(self, parsed: Any) -> Any:
        if _is_sdk_stream(parsed):
            # the SDK caches parse(): hand out one proxy for that one stream
            known = getattr(self, "_self_parsed", None)
            if known is None or known.__wrapped__ is not parsed:
                known = self._self_parsed = self._tk_handoff(parsed)
            return known
        self._tk_respond(parsed)
        return parsed

    def _tk_end_unread(self, exc: BaseException | None = None) -> None:
        call = self._self_state.call
        if call is None:
            return
        if call.state.get("stream"):
            self._tk_finalize(_error_reason(exc), exc)
        else:
            self._tk_respond(None, exc)


class AsyncRawResponseProxy(AsyncStreamProxy):
    """The async twin of :class:`RawResponseProxy` (``AsyncAPIResponse``: ``parse()`` and
    ``close()`` are coroutines)."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            parsed = await self.__wrapped__.parse(*args, **kwargs)
        except BaseException as exc:
            self._tk_end_unread(exc)
            raise
        return RawResponseProxy._tk_parsed(self, parsed)  # type: ignore[arg-type]

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._tk_end_unread()

    def _tk_end_unread(self, exc: BaseException | None = None) -> None:
        RawResponseProxy._tk_end_unread(self, exc)  # type: ignore[arg-type]
