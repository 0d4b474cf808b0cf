"""OpenLLMetry (traceloop): ``opentelemetry-instrumentation-{openai,anthropic,google-generativeai}``."""

from __future__ import annotations

import os
from typing import Any

from _otel import OTelPeer

VENV = ".venv-bench-openllmetry"
PROVIDERS = ("openai", "anthropic", "gemini")
PACKAGES = (
    "opentelemetry-instrumentation-openai",
    "opentelemetry-instrumentation-anthropic",
    "opentelemetry-instrumentation-google-generativeai",
    "opentelemetry-sdk",
)


def _openai() -> Any:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    return OpenAIInstrumentor()


def _anthropic() -> Any:
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

    return AnthropicInstrumentor()


def _gemini() -> Any:
    from opentelemetry.instrumentation.google_generativeai import GoogleGenerativeAiInstrumentor

    return GoogleGenerativeAiInstrumentor()


os.environ.setdefault("TRACELOOP_TRACE_CONTENT", "true")  # its default; said out loud
peer = OTelPeer({"openai": _openai, "anthropic": _anthropic, "gemini": _gemini})


def setup(provider: str, workdir: str) -> None:
    peer.enable(provider)


enable, disable, parent, flush, proof = peer.enable, peer.disable, peer.parent, peer.flush, peer.proof
