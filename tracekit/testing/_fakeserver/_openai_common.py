"""What every OpenAI answer of the fake server shares: headers, the error body, usage, ids.

Shapes follow the types of openai 3.54.0 (``openai/types``).
"""

from __future__ import annotations

from typing import Any

from ._model import FakeResponse, json_response
from ._scenarios import CACHE_CREATION_TOKENS, CACHED_TOKENS, Call
from ._stream import ToolCallPlan, reasoning_tokens

__all__ = ["error_response"]

_FINGERPRINT = "fp_fake"


def _headers(call: Call) -> list[tuple[str, str]]:
    return [("x-request-id", f"req_fake_{call.number}"), ("openai-processing-ms", "1")]


def error_response(call: Call | None, status: int, message: str | None = None) -> FakeResponse:
    """An error in OpenAI's shape: ``{"error": {message, type, param, code}}``."""
    model = call.model if call else "unknown"
    kind, code, default = {
        400: ("invalid_request_error", None, "Invalid request (fake error_400)."),
        401: (
            "invalid_request_error",
            "invalid_api_key",
            "Incorrect API key provided: sk-fake. You can find your API key at https://platform.openai.com/account/api-keys.",
        ),
        404: (
            "invalid_request_error",
            "model_not_found",
            f"The model `{model}` does not exist or you do not have access to it.",
        ),
        429: (
            "requests",
            "rate_limit_exceeded",
            f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, Requested 1.",
        ),
        500: (
            "server_error",
            None,
            "The server had an error while processing your request. Sorry about that!",
        ),
        529: ("server_error", None, "The engine is currently overloaded, please try again later."),
    }.get(status, ("invalid_request_error", None, f"Error {status}."))
    headers = _headers(call) if call else []
    if status == 429 and call is not None:
        headers.append(("retry-after", _seconds(call.options.retry_after)))
    body = {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
    return json_response(status, body, headers)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --------------------------------------------------------------------------- usage


def _chat_usage(call: Call, output_units: int) -> dict[str, Any]:
    prompt = call.prompt_tokens
    cached = cache_write = 0
    if call.scenario == "cached_usage":
        cached, cache_write = CACHED_TOKENS, CACHE_CREATION_TOKENS
    reasoning = reasoning_tokens(call)
    prompt += cached + cache_write
    completion = output_units + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0, "cache_write_tokens": cache_write},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _responses_usage(call: Call, output_units: int) -> dict[str, Any]:
    usage = _chat_usage(call, output_units)
    return {
        "input_tokens": usage["prompt_tokens"],
        "input_tokens_details": {
            "cached_tokens": usage["prompt_tokens_details"]["cached_tokens"],
            "cache_write_tokens": usage["prompt_tokens_details"]["cache_write_tokens"],
        },
        "output_tokens": usage["completion_tokens"],
        "output_tokens_details": {"reasoning_tokens": usage["completion_tokens_details"]["reasoning_tokens"]},
        "total_tokens": usage["total_tokens"],
    }


def _tool_call_id(call: Call, plan: ToolCallPlan) -> str:
    return f"call_fake_{call.number}_{plan.index}"
