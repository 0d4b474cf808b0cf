"""The gemini patch table and ``autolog`` (the public face is ``tracekit.gemini``).

What is traced and how to use it: the public face's docstring and ``docs/gemini.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tracekit._llm import (
    OP_EMBEDDINGS,
    OP_GENERATE_CONTENT,
    Call,
    CallRecord,
    Endpoint,
    Patch,
    RequestTap,
    Usage,
    apply,
    proxy_stream,
    record_error,
    remove,
)
from tracekit._providers.gemini import _mapping as mapping
from tracekit._providers.gemini._accumulate import add_parsed, merge_stream
from tracekit._span import SpanType

__all__ = ["autolog"]

_MODULE = "google.genai.models"

#: adds ``traceparent`` to the request google-genai builds (``BaseApiClient._build_request``,
#: every version from 1.10.0 on) while a non-streamed call runs; a per-request
#: ``http_options`` would make the SDK copy the config and merge its HTTP options for
#: every request (~60 µs per call, google-genai 3.6). Streams build their request when
#: first iterated, after the patched method returned: they keep ``http_options``.
_REQUEST_TAP = RequestTap()
_TAP_ROW = Patch("google.genai._api_client", "BaseApiClient", "_build_request", _REQUEST_TAP)
_INSTALL_HINT = "tracekit.gemini needs the google-genai SDK: pip install 'tracekit[gemini]'"


def _model_name(model: Any) -> str | None:
    """The model as the span name and ``gen_ai.request.model`` show it: ``models/``
    (the Gemini API's resource prefix, optional in the SDK) is dropped."""
    if not model:
        return None
    text = str(model)
    return text.removeprefix("models/")


def _record_provider(record: CallRecord, instance: Any) -> None:
    """``gen_ai.provider.name`` takes the GenAI conventions' value (``gcp.gemini`` for
    the Gemini Developer API, ``gcp.vertex_ai`` for Vertex AI); ``gen_ai.system`` keeps
    the older convention's value, and ``mlflow.llm.provider`` the name MLflow's cost
    table knows (``gemini`` / ``vertex_ai``, as in LiteLLM)."""
    vertex = mapping.is_vertexai(instance)
    record.provider = "gcp.vertex_ai" if vertex else "gcp.gemini"
    record.system = record.llm_provider = "vertex_ai" if vertex else "gemini"


def _record_api_error(call: Call, exc: BaseException) -> None:
    record_error(call.record, exc)
    # google.genai.errors.APIError carries the HTTP status as ``code``; its
    # ``response`` is the SDK's own HttpResponse when the error arrived mid-stream
    code = getattr(exc, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        call.record.http_status = code


def _inject_http_options(instance: Any, kwargs: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | None:
    """``kwargs`` with ``headers`` added to a copy of ``config.http_options.headers``
    (google-genai 3.x merges them into the client's headers for this one request).
    None when the request's or the client's headers set one already (the app's wins).
    The app's ``config`` and ``http_options`` objects are copied, never changed."""
    names = {name.lower() for name in headers}

    def has(found: Any) -> bool:
        return isinstance(found, Mapping) and any(isinstance(k, str) and k.lower() in names for k in found)

    client_options = getattr(getattr(instance, "_api_client", None), "_http_options", None)
    if has(getattr(client_options, "headers", None)):
        return None
    config = kwargs.get("config")
    if config is None:
        new_config: Any = {"http_options": {"headers": dict(headers)}}
    else:
        is_dict = isinstance(config, Mapping)
        # a dict config may spell it the API's way (google-genai accepts both); adding
        # the other spelling beside it would make the SDK reject the app's call
        key = "httpOptions" if is_dict and "httpOptions" in config and "http_options" not in config else "http_options"
        options = config.get(key) if is_dict else getattr(config, "http_options", None)
        if options is None:
            new_options: Any = {"headers": dict(headers)}
        else:
            own = options.get("headers") if isinstance(options, Mapping) else getattr(options, "headers", None)
            if has(own):
                return None
            merged = {**(own or {}), **headers}
            if isinstance(options, Mapping):
                new_options = {**options, "headers": merged}
            else:
                new_options = options.model_copy(update={"headers": merged})
        if is_dict:
            new_config = {**config, key: new_options}
        else:
            if isinstance(new_options, dict):
                from google.genai import types

                new_options = types.HttpOptions(**new_options)
            new_config = config.model_copy(update={"http_options": new_options})
    out = dict(kwargs)
    out["config"] = new_config
    return out


def _response_headers(result: Any) -> Any:
    """The HTTP headers google-genai keeps on a response (``sdk_http_response.headers``)."""
    return getattr(getattr(result, "sdk_http_response", None), "headers", None)


class _GeminiEndpoint(Endpoint):
    """What every google-genai endpoint shares: the provider, the request tap, the name."""

    provider = "gcp.gemini"
    request_tap: ClassVar[Any] = _REQUEST_TAP

    def span_name(self, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
        model = _model_name(kwargs.get("model"))
        return f"{self.operation} {model}" if model else self.operation


class _GenerateContent(_GeminiEndpoint):
    """``Models._generate_content`` (sync and async): one request, one response."""

    span_type = SpanType.CHAT_MODEL.value
    operation = OP_GENERATE_CONTENT
    message_format = "gemini"
    stream = False

    def on_request(self, call: Call, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        record = call.record
        _record_provider(record, instance)
        config = mapping.config_json(kwargs.get("config"), getattr(instance, "_api_client", None))
        inputs: dict[str, Any] = {"model": kwargs.get("model"), "contents": mapping.contents_json(kwargs.get("contents"))}
        if config:
            inputs["config"] = config
        record.inputs = inputs
        record.tools = mapping.chat_tools(config)
        mapping.request_params(record, config)
        if self.stream:
            record.stream = True
        record.request_model = _model_name(kwargs.get("model"))
        record.base_url = mapping.base_url(instance, kwargs.get("config"))
        call.state["model"] = _model_name(kwargs.get("model"))
        if isinstance(config, dict) and (config.get("response_schema") or config.get("response_json_schema")):
            call.state["structured"] = True

    def inject_headers(self, instance: Any, kwargs: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | None:
        return _inject_http_options(instance, kwargs, headers)

    def on_response(self, call: Call, result: Any) -> None:
        call.state["headers"] = _response_headers(result)
        mapping.record_response(call.record, mapping.response_json(result), call.state.get("model"))

    def on_error(self, call: Call, exc: BaseException) -> None:
        _record_api_error(call, exc)


class _GenerateContentStream(_GenerateContent):
    """``Models._generate_content_stream``: a generator (sync) or an awaitable resolving
    to an async generator (async). The chunks are merged into one response when the
    stream ends, however it ends."""

    stream = True
    request_tap: ClassVar[Any] = None

    def wrap(self, call: Call, result: Any) -> Any:
        return proxy_stream(call, result)

    def on_stream_end(self, call: Call, stream: Any, complete: bool) -> None:
        if call.chunks:
            call.state["headers"] = _response_headers(call.chunks[0])
        merged = merge_stream(call.chunks)
        if complete and not mapping.finished(merged):
            # the SDK iterated to the end, but no chunk said the answer was over (no
            # finish reason, no block): the server or a proxy cut the stream short, and
            # google-genai 3.4.0 ends iteration without an error when it has no
            # continuation token to resume from
            call.record.incomplete = True
        if call.chunks:
            if complete and call.state.get("structured"):
                add_parsed(merged)
            mapping.record_response(call.record, merged, call.state.get("model"))


class _EmbedContent(_GeminiEndpoint):
    """``Models._embed_content``: an EMBEDDING span."""

    span_type = SpanType.EMBEDDING.value
    operation = OP_EMBEDDINGS

    def on_request(self, call: Call, instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        record = call.record
        _record_provider(record, instance)
        inputs: dict[str, Any] = {"model": kwargs.get("model")}
        # the public method passes ``contents``; on Vertex AI the SDK may pass one
        # ``content`` or ``batch_contents`` instead
        for name in ("contents", "content", "batch_contents"):
            if kwargs.get(name) is not None:
                inputs[name] = mapping.to_json(kwargs[name])
        config = mapping.to_json(kwargs.get("config"))
        if isinstance(config, dict):
            config = {k: v for k, v in config.items() if k not in ("http_options", "httpOptions") and v is not None}
        if config:
            inputs["config"] = config
            if isinstance(config.get("output_dimensionality"), int):
                record.embedding_dimension = config["output_dimensionality"]
        record.inputs = inputs
        record.request_model = _model_name(kwargs.get("model"))
        record.base_url = mapping.base_url(instance, kwargs.get("config"))

    def inject_headers(self, instance: Any, kwargs: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any] | None:
        return _inject_http_options(instance, kwargs, headers)

    def on_response(self, call: Call, result: Any) -> None:
        call.state["headers"] = _response_headers(result)
        data = mapping.response_json(result)
        call.record.outputs = data
        embeddings = data.get("embeddings") or []
        first = embeddings[0] if embeddings and isinstance(embeddings[0], Mapping) else {}
        values = first.get("values")
        if isinstance(values, list) and values:
            call.record.embedding_dimension = len(values)
        # Vertex AI reports tokens per embedding; the Gemini Developer API reports none
        tokens = [
            e["statistics"]["token_count"]
            for e in embeddings
            if isinstance(e, Mapping)
            and isinstance(e.get("statistics"), Mapping)
            and isinstance(e["statistics"].get("token_count"), (int, float))
        ]
        if tokens:
            call.record.usage = Usage(int(sum(tokens)), 0)

    def on_error(self, call: Call, exc: BaseException) -> None:
        _record_api_error(call, exc)


_GENERATE = _GenerateContent()
_STREAM = _GenerateContentStream()
_EMBED = _EmbedContent()

#: (class, public method, the private method that sends one request, endpoint, async)
_SURFACES: tuple[tuple[str, str, str, Endpoint, bool], ...] = (
    ("Models", "generate_content", "_generate_content", _GENERATE, False),
    ("Models", "generate_content_stream", "_generate_content_stream", _STREAM, False),
    ("Models", "embed_content", "_embed_content", _EMBED, False),
    ("AsyncModels", "generate_content", "_generate_content", _GENERATE, True),
    ("AsyncModels", "generate_content_stream", "_generate_content_stream", _STREAM, True),
    ("AsyncModels", "embed_content", "_embed_content", _EMBED, True),
)


def _patch_table() -> list[Patch]:
    """One row per surface: the private per-request method where this SDK version has
    it, else the public method (never both, which would trace one call twice)."""
    import importlib

    module = importlib.import_module(_MODULE)
    rows = []
    for cls_name, public, private, endpoint, is_async in _SURFACES:
        owner = getattr(module, cls_name, None)
        method = private if owner is not None and private in vars(owner) else public
        rows.append(Patch(_MODULE, cls_name, method, endpoint, is_async))
    rows.append(_TAP_ROW)
    return rows


def _all_rows() -> list[Patch]:
    rows = []
    for cls_name, public, private, endpoint, is_async in _SURFACES:
        rows.append(Patch(_MODULE, cls_name, private, endpoint, is_async))
        rows.append(Patch(_MODULE, cls_name, public, endpoint, is_async))
    rows.append(_TAP_ROW)
    return rows


def autolog(disable: bool = False) -> None:
    """Trace google-genai calls (``disable=True`` removes every patch again).

    Idempotent; works before or after ``from google import genai`` and for clients
    created before the call. Raises ``ImportError`` naming the extra to install when
    google-genai is missing (``disable=True`` never does).

    >>> import tracekit
    >>> tracekit.gemini.autolog()
    >>> client.models.generate_content(model="gemini-2.5-flash", contents="Hi")
    >>> tracekit.gemini.autolog(disable=True)
    """
    if disable:
        remove(_all_rows())  # needs no SDK: only what was applied is restored
        return
    try:
        import google.genai.models  # noqa: F401
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    apply(_patch_table())
