"""The anthropic patch table and ``autolog`` (the public face is ``tracekit.anthropic``).

What is traced and how to use it: the public face's docstring and ``docs/anthropic.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tracekit import _llm
from tracekit._llm import Call, Endpoint, Patch
from tracekit._llm import _stainless as stainless
from tracekit._llm._stainless import is_api_response as _is_api_response
from tracekit._providers.anthropic._mapping import accumulate, record_message, record_request

__all__ = ["autolog"]

_INSTALL_HINT = "pip install 'tracekit[anthropic]'"


class MessagesEndpoint(Endpoint):
    """``messages.create`` / ``parse`` / ``stream`` (``helper=True``), plain or beta."""

    provider = "anthropic"
    operation = _llm.OP_CHAT
    message_format = "anthropic"

    def __init__(self, *, beta: bool = False, helper: bool = False) -> None:
        self.beta = beta
        self.helper = helper

    # --- request ---------------------------------------------------------------------
    def on_request(self, call: Call, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        stream = self.helper or kwargs.get("stream") is True
        call.state["stream"] = stream
        record_request(call.record, kwargs, stream=stream)
        client = getattr(instance, "_client", None)  # the SDK resource's client (no public accessor)
        call.record.base_url = getattr(client, "base_url", None)

    # --- result ----------------------------------------------------------------------
    def wrap(self, call: Call, result: Any) -> Any:
        return stainless.wrap(call, result, MESSAGE_STREAM if self.helper else None)

    def on_response(self, call: Call, result: Any) -> None:
        if result is None:
            return
        message = self._message_from_raw(result) if _is_api_response(result) else result
        record_message(call.record, call.kwargs.get("model"), message)

    def _message_from_raw(self, response: Any) -> Any:
        """The Message of a ``with_raw_response`` body, without calling the response's
        ``parse()`` (which the app may call with its own ``to=`` type later)."""
        data = json.loads(response.http_response.content)
        try:
            message_class: Any
            if self.beta:
                from anthropic.types.beta import BetaMessage as message_class
            else:
                from anthropic.types import Message as message_class
            return message_class.model_validate(data)
        except Exception:
            return data  # a shape this SDK does not know: record the JSON as it came

    # --- streams ---------------------------------------------------------------------
    def on_chunk(self, call: Call, chunk: Any) -> None:
        kind = getattr(chunk, "type", None)
        if kind == "message_stop":
            call.state["stopped"] = True
        if "helper" not in call.state:
            call.chunks.append(chunk)  # accumulated once, at the end
        elif kind in _HELPER_EVENTS:
            # count wire events only, as a create(stream=True) span does: the helper
            # adds a derived event after some deltas (text, input_json, ...)
            call.n_chunks -= 1

    def on_stream_end(self, call: Call, stream: Any, complete: bool) -> None:
        if complete and not call.state.get("stopped"):
            # the body ended without message_stop (a dropped gateway connection ends
            # the SSE body cleanly): the SDK stops iterating without an error
            call.record.incomplete = True
        helper = call.state.get("helper")
        if helper is not None:
            try:
                message = helper.current_message_snapshot
            except AssertionError:
                message = None  # no message_start arrived
        else:
            message = accumulate(call.chunks, beta=self.beta, request_headers=_request_headers(stream))
        if message is not None:
            record_message(call.record, call.kwargs.get("model"), message)


#: events the messages.stream() helper derives from a wire event (anthropic 2.12.0 build_events)
_HELPER_EVENTS = frozenset({"text", "input_json", "citation", "thinking", "signature", "compaction"})


def _text_of(event: Any) -> str | None:
    """The text of a ``text_stream`` event (anthropic 2.12.0 ``MessageStream.__stream_text__``)."""
    delta = getattr(event, "delta", None)
    if getattr(event, "type", None) == "content_block_delta" and getattr(delta, "type", None) == "text_delta":
        return str(getattr(delta, "text", ""))
    return None


#: the helper stream of ``messages.stream()`` (anthropic ``MessageStream``)
MESSAGE_STREAM = stainless.StreamHelper(("get_final_message", "get_final_text"), "text_stream", _text_of)


def _request_headers(stream: Any) -> Any:
    response = getattr(stream, "response", None) or getattr(stream, "http_response", None)
    return getattr(getattr(response, "request", None), "headers", None)


_MESSAGES = "anthropic.resources.messages.messages"
_BETA = "anthropic.resources.beta.messages.messages"


def _table() -> tuple[Patch, ...]:
    rows: list[Patch] = []
    for module, beta in ((_MESSAGES, False), (_BETA, True)):
        call = MessagesEndpoint(beta=beta)
        helper = MessagesEndpoint(beta=beta, helper=True)
        rows += [
            Patch(module, "Messages", "create", call),
            Patch(module, "Messages", "parse", call),
            Patch(module, "Messages", "stream", helper),
            Patch(module, "AsyncMessages", "create", call, is_async=True),
            Patch(module, "AsyncMessages", "parse", call, is_async=True),
            # a plain function returning an AsyncMessageStreamManager (anthropic 0.x-2.12.0)
            Patch(module, "AsyncMessages", "stream", helper),
        ]
    # hands each traced call its HTTP response's headers (anthropic 2.x: every
    # response, streamed or not, raw or parsed, passes ``_process_response``)
    tap = _llm.ResponseTap()
    rows += [
        Patch("anthropic._base_client", "SyncAPIClient", "_process_response", tap),
        Patch("anthropic._base_client", "AsyncAPIClient", "_process_response", tap),
    ]
    return tuple(rows)


#: the one patch table: autolog() applies it, autolog(disable=True) removes it
PATCHES: tuple[Patch, ...] = _table()


def autolog(disable: bool = False) -> None:
    """Trace every Anthropic Messages call (or stop, with ``disable=True``). Idempotent.

    Works whether it runs before or after ``import anthropic`` and before or after
    the client was made. Raises ``ImportError`` when the anthropic SDK is missing.

    >>> import tracekit
    >>> tracekit.anthropic.autolog()
    >>> tracekit.anthropic.autolog(disable=True)  # removes every patch
    """
    if disable:
        _llm.remove(PATCHES)
        return
    try:
        import anthropic  # noqa: F401 - fail early, naming the extra to install
    except ImportError as exc:
        raise ImportError(f"tracekit.anthropic.autolog() needs the anthropic SDK; install it with {_INSTALL_HINT}") from exc
    _llm.apply(PATCHES)
