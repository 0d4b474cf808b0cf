"""One model call seen by the proxy -> one LLM span, through autolog's own endpoints.

The span is started, fed and ended by the core lifecycle of ``tracekit/_llm/``
(``_begin``, ``_StreamState``: chunk, finalize once, respond, fail) with the provider
endpoint autolog uses for the same call, so the attributes are the same by
construction; the proxy only turns bytes into the SDK's arguments and objects
(:mod:`tracekit._proxy._sdk`). Every method is guarded: a recording failure never
touches the bytes the client gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tracekit import _errors, _llm
from tracekit._proxy import _routes, _sdk
from tracekit._proxy._wire import Decoder, SSEParser, Undecodable, load_json

#: the most of one response body kept for recording (a larger one passes through unrecorded)
MAX_RECORDED_BODY = 64 * 1024 * 1024


class UpstreamError(Exception):
    """An error answer from the upstream (HTTP status >= 400, or an error event in a
    stream). Named per status as the provider SDKs name theirs, so ``error.type`` reads
    the same as on an autolog span."""

    status_code: int | None = None
    code: int | None = None  # google-genai's APIError carries the status as ``code``
    body: Any = None  # openai / anthropic APIStatusError.body
    details: Any = None  # google-genai APIError.details


_OPENAI_STYLE = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}
_ANTHROPIC_EXTRA = {
    413: "RequestTooLargeError",
    529: "OverloadedError",
    503: "ServiceUnavailableError",
    504: "DeadlineExceededError",
}
_classes: dict[str, type[UpstreamError]] = {}


def _error_name(provider: str, status: int | None, in_stream: bool) -> str:
    if provider == "gemini":
        return "ClientError" if status is not None and 400 <= status < 500 else "ServerError"
    if in_stream:
        return "APIError" if provider == "openai" else "APIStatusError"
    assert status is not None
    if provider == "anthropic" and status in _ANTHROPIC_EXTRA:
        return _ANTHROPIC_EXTRA[status]
    if status in _OPENAI_STYLE:
        return _OPENAI_STYLE[status]
    return "InternalServerError" if status >= 500 else "APIStatusError"


def upstream_error(provider: str, status: int | None, body: Any, in_stream: bool = False) -> UpstreamError:
    """The exception a provider SDK would have raised for this answer."""
    name = _error_name(provider, status, in_stream)
    cls = _classes.get(name)
    if cls is None:
        cls = _classes[name] = type(name, (UpstreamError,), {"__module__": __name__})
    message = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(message, Mapping):
        message = message.get("message") or message
    exc = cls(f"Error code: {status} - {message}" if status and not in_stream else str(message))
    # anthropic 2.x raises an in-stream error as APIStatusError of the (200) response;
    # openai's in-stream APIError has no status
    exc.status_code = status if not in_stream or provider == "anthropic" else None
    # the error body as each SDK keeps it (tracekit._gateway.error_body records it):
    # openai the JSON's "error" object, anthropic the whole JSON, google-genai ``details``
    if provider == "gemini":
        error = body.get("error") if isinstance(body, Mapping) else None
        code = error.get("code") if isinstance(error, Mapping) else status
        exc.code = code if isinstance(code, int) else None
        exc.details = body
    elif provider == "openai":
        exc.body = body.get("error", body) if isinstance(body, Mapping) else body
    else:
        exc.body = body
    return exc


def _endpoint(exchange: _routes.Exchange, body: Mapping[str, Any]) -> tuple[_llm.Endpoint, dict[str, Any]]:
    kind = exchange.kind
    if kind.startswith("openai."):
        from tracekit._providers.openai import _patches as openai_module

        endpoint: Any = {
            _routes.OPENAI_CHAT: openai_module._chat,
            _routes.OPENAI_RESPONSES: openai_module._responses,
            _routes.OPENAI_EMBEDDINGS: openai_module._embeddings,
        }[kind]
        return endpoint, dict(body)
    if kind == _routes.ANTHROPIC_MESSAGES:
        from tracekit._providers.anthropic._patches import MessagesEndpoint

        return MessagesEndpoint(beta=exchange.beta), dict(body)
    from tracekit._providers.gemini import _patches as gemini

    if kind == _routes.GEMINI_EMBED:
        return gemini._EMBED, _sdk.gemini_embed_kwargs(exchange.model, exchange.method, body)
    return (gemini._STREAM if exchange.stream else gemini._GENERATE), _sdk.gemini_kwargs(exchange.model, body)


class Recording:
    """The span of one exchange; created when the request arrived."""

    def __init__(
        self,
        exchange: _routes.Exchange,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        upstream_url: str,
        session: tuple[str, str] | None,
    ) -> None:
        self.exchange = exchange
        self._state: _llm._StreamState | None = None
        self._call: _llm.Call | None = None
        self._parser: SSEParser | None = None
        self._decoder: Decoder | None = None
        self._buffer: bytearray | None = None
        self._status = 0
        self._failed: UpstreamError | None = None
        self._done = False
        with _errors.handle_internal_errors("proxy.record.request"):
            endpoint, kwargs = _endpoint(exchange, body)
            remote = headers if "traceparent" in headers else None
            call = _llm._begin(endpoint, None, (), kwargs, remote_parent=remote)
            if call is None:
                return
            self._call = call
            self._state = _llm._StreamState(call)
            record = call.record
            record.base_url = upstream_url.rstrip("/") + exchange.base_path
            record.proxy_upstream = upstream_url
            agent = headers.get("user-agent")
            if agent:
                record.user_agent = agent
            if session is not None:
                record.session_id, record.session_source = session
            _llm.flush(call)

    @property
    def traced(self) -> bool:
        return self._state is not None

    # --- the response ---------------------------------------------------------------
    def response_head(self, status: int, headers: Mapping[str, str]) -> None:
        """The upstream answered: pick how its body will be read."""
        if self._state is None:
            return
        with _errors.handle_internal_errors("proxy.record.head"):
            self._status = status
            if self._call is not None:
                # what the upstream (a gateway, or the provider) says in its headers --
                # request id, served model, call id, overhead, cost -- is recorded as
                # autolog records it from the SDK's response (tracekit._gateway)
                self._call.state["headers"] = headers
            try:
                self._decoder = Decoder(headers.get("content-encoding"))
            except Undecodable as exc:
                self._not_recorded(f"content-encoding {exc} not decodable here")
                return
            sse = "text/event-stream" in headers.get("content-type", "").lower()
            if status < 400 and sse:
                self._parser = SSEParser()
            else:
                self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        """A piece of the response body, as it passed to the client."""
        if self._state is None or self._decoder is None or self._done:
            return
        try:
            plain = self._decoder.feed(data)
            if self._parser is not None:
                self._events(self._parser.feed(plain))
            elif self._buffer is not None:
                if len(self._buffer) + len(plain) > MAX_RECORDED_BODY:
                    self._buffer = None
                    self._not_recorded(f"response body over {MAX_RECORDED_BODY} bytes")
                else:
                    self._buffer += plain
        except Exception:
            self._decoder = None
            self._not_recorded("response body could not be decoded")
            _errors.report("proxy.record.feed")

    def _not_recorded(self, why: str) -> None:
        if self._call is not None:
            self._call.record.not_recorded = why
            _llm.flush(self._call)

    def _events(self, events: Iterable[tuple[str, str]]) -> None:
        state = self._state
        assert state is not None
        kind, provider = self.exchange.kind, self.exchange.provider
        for event, data in events:
            if self._failed is not None:
                return
            if provider == "anthropic":
                if event == "error":
                    self._failed = upstream_error(provider, self._status, load_json(data.encode()) or data, in_stream=True)
                    return
                if event in ("", "ping") or not data:
                    continue  # the SDK skips these (anthropic 2.x Stream.__stream__)
                state.chunk(_sdk.anthropic_event(load_json(data.encode()), self.exchange.beta))
                continue
            if data.startswith("[DONE]"):
                continue
            payload = load_json(data.encode())
            if isinstance(payload, Mapping) and payload.get("error"):
                self._failed = upstream_error(provider, self._status, payload, in_stream=True)
                return
            if kind == _routes.OPENAI_CHAT:
                state.chunk(_sdk.openai_chunk(payload))
            elif kind == _routes.OPENAI_RESPONSES:
                state.chunk(_sdk.openai_response_event(payload))
            else:
                state.chunk(_sdk.gemini_response(payload))

    # --- the end ----------------------------------------------------------------------
    def finish(self, reason: str = _llm.END_EXHAUSTED, exc: BaseException | None = None) -> None:
        """End the span once. ``reason`` is the stream end reason (``exhausted`` when the
        upstream body ended normally and the client got all of it); ``exc`` what broke
        the exchange (upstream unreachable, cut, timed out)."""
        if self._done or self._state is None:
            self._done = True
            return
        self._done = True
        state = self._state
        try:
            if self._parser is not None and exc is None and reason == _llm.END_EXHAUSTED:
                self._events(self._parser.close())
            if self._failed is not None:
                state.finalize(None, _llm.END_ERROR, self._failed)
            elif self._status >= 400 and exc is None:
                body = bytes(self._buffer or b"")
                state.fail(
                    upstream_error(self.exchange.provider, self._status, load_json(body) or body.decode("utf-8", "replace"))
                )
            elif self._status == 0:
                # before any answer: the upstream failed (exc), or the client left first
                state.fail(exc or ConnectionAbortedError(f"the client went away before the upstream answered ({reason})"))
            elif self._parser is not None:
                state.finalize(None, reason, exc)
            elif self.exchange.stream:
                self._json_stream(state, reason, exc)
            elif exc is not None or reason != _llm.END_EXHAUSTED:
                state.fail(exc or ConnectionError(f"response {reason}"))
            else:
                state.respond(self._response_object())
        except Exception:
            _errors.report("proxy.record.finish")
            state.finalize(None, _llm.END_ERROR)  # end the span whatever happened (no-op if ended)

    def _json_stream(self, state: _llm._StreamState, reason: str, exc: BaseException | None) -> None:
        """Gemini's ``streamGenerateContent`` without ``alt=sse``: one JSON array."""
        items = load_json(bytes(self._buffer or b"")) if exc is None else None
        for item in items if isinstance(items, list) else []:
            state.chunk(_sdk.gemini_response(item))
        state.finalize(None, reason if items is not None or exc is not None else _llm.END_ERROR, exc)

    def _response_object(self) -> Any:
        data = load_json(bytes(self._buffer or b""))
        kind = self.exchange.kind
        if kind == _routes.ANTHROPIC_MESSAGES:
            return _sdk.anthropic_message(data, self.exchange.beta)
        if kind == _routes.GEMINI_GENERATE:
            return _sdk.gemini_response(data)
        if kind == _routes.GEMINI_EMBED:
            return _sdk.gemini_embed_response(data)
        return data
