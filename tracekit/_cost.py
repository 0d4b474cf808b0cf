"""The cost in USD of each LLM span, priced with ``genai-prices`` (``tracekit[pricing]``).

Why genai-prices (pydantic's, the table Logfire prices with): a maintained, versioned
package with one price table per provider, model-name matching that understands
dated and aliased names, cached-read / cache-write / reasoning / audio token prices,
tiered and time-dependent prices, and small dependencies (pydantic, httpx2). The
alternatives: ``tokencost`` prices a flat input/output rate per model (no cache-write,
no tiers) from a copy of LiteLLM's map; LiteLLM's own map needs ``litellm``, far too
heavy to load at run time. Without the extra no span is priced (and none is marked).

Two steps, so that the app's thread never waits for the price table:

* :func:`record` runs on the app's thread as the span ends: it records a cost the
  gateway reported (``x-litellm-response-cost``), which always wins. Cheap.
* :func:`price_spans` runs on the export thread (the pipeline calls it before the
  exporters see a batch): it prices every LLM span that has token usage and no cost
  yet, from the *served* model and the usage. genai-prices takes ~70 µs per price
  (measured, genai-prices 0.2.5, CPython 3.11) and ~0.3 s to import: both stay off
  the app's thread. Prices are memoized per (provider, model, usage).

A model genai-prices does not know is marked ``tracekit.cost.unpriced = true``, never
guessed. Keys: ``mlflow.llm.cost`` (JSON ``{input_cost, output_cost, total_cost}``, what
the MLflow UI shows and sums per trace; the server computes its own only when the span
has none), ``gen_ai.usage.cost`` (the total, under the key OpenLIT writes) and
``tracekit.cost.{input,output,total}_usd``.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from tracekit import _attributes as attr
from tracekit import _errors

logger = logging.getLogger("tracekit")

#: ``mlflow.llm.provider`` -> genai-prices' provider id (None: let it match the model)
_PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "azure": "azure",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex_ai": "google",
}

#: gateways name the served model ``provider/model`` (LiteLLM, Kong); genai-prices' ids
_PREFIXES: Mapping[str, str] = {
    "openai": "openai",
    "azure": "azure",
    "anthropic": "anthropic",
    "gemini": "google",
    "google": "google",
    "vertex_ai": "google",
}

_SOURCE_LIBRARY = "genai-prices"
_SOURCE_GATEWAY = "gateway"


def cost_attributes(input_cost: float | None, output_cost: float | None, total: float, source: str) -> dict[str, Any]:
    """The cost keys of one span (``input_cost``/``output_cost`` None when unknown)."""
    mlflow_cost: dict[str, float] = {}
    values: dict[str, Any] = {}
    if input_cost is not None:
        mlflow_cost["input_cost"] = values[attr.COST_INPUT] = input_cost
    if output_cost is not None:
        mlflow_cost["output_cost"] = values[attr.COST_OUTPUT] = output_cost
    mlflow_cost["total_cost"] = values[attr.COST_TOTAL] = values[attr.GEN_AI_USAGE_COST] = total
    values[attr.LLM_COST] = json.dumps(mlflow_cost)
    values[attr.COST_SOURCE] = source
    return values


def record(span: Any, gateway_cost: float | None) -> None:
    """On the app's thread, as the span ends: a cost the gateway reported wins."""
    if gateway_cost is not None:
        span.set_attributes(cost_attributes(None, None, gateway_cost, _SOURCE_GATEWAY))


# --- on the export thread -------------------------------------------------------------------

_missing_logged = False


def price_spans(spans: Iterable[Any]) -> None:
    """Price every LLM span of ``spans`` (OpenTelemetry ``ReadableSpan``) that has token
    usage and no cost yet, in place. Never raises."""
    for span in spans:
        try:
            attributes = span.attributes
            if (
                not attributes
                or attr.GEN_AI_USAGE_INPUT not in attributes
                or attr.COST_SOURCE in attributes
                or attr.LLM_COST in attributes
            ):
                continue
            values = _price_attributes(attributes)
            if values:
                _write(span, values)
        except Exception:
            try:
                _errors.report("cost.price")
            except Exception:
                pass  # strict mode re-raises: never on the export thread (it is still recorded)


def _write(span: Any, values: Mapping[str, Any]) -> None:
    """Add attributes to an ended span. Every ``ReadableSpan`` made from one SDK span
    shares its ``BoundedAttributes`` (opentelemetry-sdk 1.x), which is read-only after
    the end through the public API: write its dict, as ``Span._flush_attributes`` does."""
    target = getattr(span, "_attributes", None)
    store = getattr(target, "_dict", target)  # a ReadableSpan built by hand may hold a plain dict
    if not isinstance(store, dict):
        logger.debug("tracekit: cannot add cost to a span of this shape (%s)", type(target).__name__)
        return
    store.update(values)


def _price_attributes(attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    global _missing_logged
    model = attributes.get(attr.GEN_AI_RESPONSE_MODEL) or attributes.get(attr.GEN_AI_REQUEST_MODEL)
    if not isinstance(model, str) or not model:
        return None
    try:
        _library()
    except ImportError:
        if not _missing_logged:
            _missing_logged = True
            logger.debug("tracekit: genai-prices is not installed (pip install 'tracekit[pricing]'): no cost recorded")
        return None
    provider = _PROVIDERS.get(str(attributes.get(attr.LLM_PROVIDER) or ""))
    prefix, _, bare = model.partition("/")
    if bare and prefix in _PREFIXES:
        provider, model = _PREFIXES[prefix], bare

    def count(key: str) -> int:
        value = attributes.get(key)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0

    return dict(
        _priced_values(
            provider,
            model,
            count(attr.GEN_AI_USAGE_INPUT),
            count(attr.GEN_AI_USAGE_OUTPUT),
            count(attr.GEN_AI_USAGE_CACHE_READ),
            count(attr.GEN_AI_USAGE_CACHE_CREATION),
            count(attr.GEN_AI_USAGE_REASONING),
        )
    )


@functools.lru_cache(maxsize=4096)
def _priced_values(
    provider: str | None, model: str, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int, reasoning: int
) -> tuple[tuple[str, Any], ...]:
    """The cost attributes of one (provider, model, usage), memoized whole: the
    ``mlflow.llm.cost`` JSON text was encoded again for every span (~2 µs of the
    export thread's time under the GIL)."""
    price = _price(provider, model, input_tokens, output_tokens, cache_read, cache_write, reasoning)
    if price is None:
        return ((attr.COST_UNPRICED, True),)
    return tuple(cost_attributes(price[0], price[1], price[2], _SOURCE_LIBRARY).items())


def _library() -> Any:
    """genai-prices (the ``tracekit[pricing]`` extra); raises ImportError without it."""
    return importlib.import_module("genai_prices")


@functools.lru_cache(maxsize=4096)
def _price(
    provider: str | None, model: str, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int, reasoning: int
) -> tuple[float, float, float] | None:
    """(input, output, total) USD, or None for a model genai-prices does not know.

    Token counts are tracekit's: input includes cached and cache-write tokens, output
    includes reasoning tokens -- the same convention as genai-prices' ``Usage``, which
    prices the cached / cache-write / reasoning share at its own rate."""
    library = _library()
    usage: dict[str, int] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cache_read:
        usage["cache_read_tokens"] = cache_read
    if cache_write:
        usage["cache_write_tokens"] = cache_write
    if reasoning:
        usage["output_reasoning_tokens"] = reasoning
    for provider_id in (provider, None) if provider else (None,):
        try:
            result = library.calc_price(library.Usage(**usage), model, provider_id=provider_id)
        except LookupError:
            continue  # e.g. a Claude model behind an OpenAI-compatible gateway: match by the model alone
        return float(result.input_price), float(result.output_price), float(result.total_price)
    return None
