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
    items = getattr(headers, "items", None)
    if not callable(items):
        return {}
    return {str(k).lower(): str(v) for k, v in items()}


def kind(headers: Mapping[str, str], base_path: Any) -> str | None:
    """The gateway's kind from lower-cased response headers and the base URL's path."""
    for name in headers:
        if name.startswith("x-litellm-"):
            return "litellm"
        if name.startswith("x-mlflow-gateway-"):
            return "mlflow"
        if name.startswith("x-kong-"):
            return "kong"
        if name.startswith("x-databricks-"):
            return "databricks"
    if "kong" in headers.get("via", "").lower():
        return "kong"
    path = base_path if isinstance(base_path, str) else ""
    if path == "/gateway" or path.startswith("/gateway/"):
        return "mlflow"
    if "/serving-endpoints" in path:
        return "databricks"
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
        value = next((headers[n] for n in names if headers.get(n)), None)
        if value:
            values[key] = value
    for key, names in _TIMINGS:
        number = next((v for v in (_number(headers.get(n)) for n in names) if v is not None), None)
        if number is not None:
            values[key] = number
    served = next((headers[n] for n in _SERVED_MODEL if headers.get(n)), None)
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
