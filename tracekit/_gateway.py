"""What a gateway tells the client, read from the response headers and the base path.

Pure functions over the HTTP response's headers (any mapping: ``httpx.Headers``, the
dict google-genai keeps in ``sdk_http_response.headers``) and the span's base path. The
core (``_llm._settle``) calls :func:`record` as an LLM span ends; reading headers never
touches the body, so nothing the app receives is consumed or altered.

Which gateway (``tracekit.gateway.kind``), first match wins:

========== ====================================================================
litellm    any ``x-litellm-*`` response header (LiteLLM Proxy 1.x)
mlflow     any ``x-mlflow-gateway-*`` header, or a base path under ``/gateway/``
kong       any ``x-kong-*`` header, or ``Via: ... kong ...`` (Kong Gateway 3.x)
databricks any ``x-databricks-*`` header, or a base path with ``/serving-endpoints``
========== ====================================================================

No kind is recorded for a provider's own API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tracekit import _attributes as attr
from tracekit import _cost

#: header -> attribute, for the ids and timings gateways report (first header found wins)
_IDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (attr.GATEWAY_CALL_ID, ("x-litellm-call-id", "x-kong-request-id")),
    (attr.REQUEST_ID, ("x-request-id", "request-id")),
)
_TIMINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        attr.GATEWAY_OVERHEAD_MS,
        ("x-mlflow-gateway-overhead-duration-ms", "x-litellm-overhead-duration-ms", "x-kong-proxy-latency"),
    ),
    (attr.GATEWAY_DURATION_MS, ("x-mlflow-gateway-duration-ms", "x-litellm-response-duration-ms")),
    (attr.GATEWAY_UPSTREAM_MS, ("x-kong-upstream-latency",)),
)
#: the model that really served the call, where the gateway says (the body may show an alias)
_SERVED_MODEL = ("x-litellm-model-name", "x-kong-llm-model")
_COST = "x-litellm-response-cost"
#: the longest error body recorded (characters of its JSON)
MAX_ERROR_BODY = 8192


def lower_headers(headers: Any) -> dict[str, str]:
    """``headers`` as a dict with lower-case names (empty for anything that is not headers)."""
    raw = getattr(headers, "raw", None)
    if type(raw) is list:
        # httpx / httpx2 Headers: their (bytes, bytes) pairs decoded here with the
        # encoding multi_items() uses; multi_items() reads the ``encoding`` property
        # twice per header (~0.8 µs per header, and a real API answers with ~25)
        try:
            encoding = headers.encoding
            return {k.decode(encoding).lower(): v.decode(encoding) for k, v in raw}
        except Exception:  # not httpx's shape after all: the generic way below
            pass
    # httpx's multi_items() is a plain list of (lower-case name, value): cheaper than items()
    items = getattr(headers, "multi_items", None) or getattr(headers, "items", None)
    if not callable(items):
        return {}
    return {str(k).lower(): str(v) for k, v in items()}


_PREFIX_KINDS: tuple[tuple[str, str], ...] = (
    ("x-litellm-", "litellm"),
    ("x-mlflow-gateway-", "mlflow"),
    ("x-kong-", "kong"),
    ("x-databricks-", "databricks"),
)
_PREFIXES = tuple(prefix for prefix, _ in _PREFIX_KINDS)


def kind(headers: Mapping[str, str], base_path: Any) -> str | None:
    """The gateway's kind from lower-cased response headers and the base URL's path."""
    for name in headers:
        if name.startswith(_PREFIXES):  # one C-level test per header on the common path
            return next(k for prefix, k in _PREFIX_KINDS if name.startswith(prefix))
    if "kong" in headers.get("via", "").lower():
        return "kong"
    path = base_path if isinstance(base_path, str) else ""
    if path == "/gateway" or path.startswith("/gateway/"):
        return "mlflow"
    if "/serving-endpoints" in path:
        return "databricks"
    return None


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = headers.get(name)
        if value:
            return value
    return None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def attributes(headers: Mapping[str, str], base_path: Any, response_model: Any, request_model: Any) -> dict[str, Any]:
    """Span attributes from lower-cased response headers (cost excluded: see :func:`gateway_cost`)."""
    values: dict[str, Any] = {}
    found = kind(headers, base_path)
    if found:
        values[attr.GATEWAY_KIND] = found
    for key, names in _IDS:
        value = _first(headers, names)
        if value:
            values[key] = value
    for key, names in _TIMINGS:
        for name in names:
            number = _number(headers.get(name))
            if number is not None:
                values[key] = number
                break
    served = _first(headers, _SERVED_MODEL)
    if served:
        alias = response_model or request_model
        if alias and alias != served:
            values[attr.GATEWAY_MODEL_ALIAS] = str(alias)
        values[attr.GEN_AI_RESPONSE_MODEL] = served
        values[attr.LLM_MODEL] = served
    return values


def gateway_cost(headers: Mapping[str, str]) -> float | None:
    """The cost in USD the gateway reported (LiteLLM's ``x-litellm-response-cost``)."""
    cost = _number(headers.get(_COST))
    return cost if cost is not None and cost >= 0 else None


def error_headers(exc: BaseException) -> Any:
    """The response headers of a failed call's exception (openai / anthropic
    ``APIStatusError.response``, google-genai ``APIError.response``), or None."""
    return getattr(getattr(exc, "response", None), "headers", None)


def error_body(exc: BaseException) -> str | None:
    """The error body the server (or gateway) answered, as JSON text, bounded: openai /
    anthropic ``APIStatusError.body`` (parsed JSON, or the raw text when not JSON),
    google-genai ``APIError.details``. None when the exception carries none."""
    body = getattr(exc, "body", None)
    if body is None:
        body = getattr(exc, "details", None)
    if body is None:
        return None
    text = body if isinstance(body, str) else json.dumps(body, default=repr, ensure_ascii=False)
    return text[:MAX_ERROR_BODY]


def record(span: Any, headers: Any, exc: BaseException | None) -> None:
    """Record on ``span`` (a tracekit ``Span``, still open) what the gateway said."""
    pending = span._attrs  # the span's attributes so far: base path and models
    lowered = lower_headers(headers) if headers is not None else {}
    values = attributes(
        lowered,
        pending.get(attr.GATEWAY_PATH),
        pending.get(attr.GEN_AI_RESPONSE_MODEL),
        pending.get(attr.GEN_AI_REQUEST_MODEL),
    )
    if exc is not None:
        body = error_body(exc)
        if body:
            values[attr.ERROR_BODY] = body
    if values:
        span.set_attributes(values)
    if exc is None:
        _cost.record(span, gateway_cost(lowered))
