"""OpenInference (Arize): ``openinference-instrumentation-{openai,anthropic,google-genai}``."""

from __future__ import annotations

from typing import Any

from _otel import OTelPeer

VENV = ".venv-bench-openinference"
PROVIDERS = ("openai", "anthropic", "gemini")
PACKAGES = (
    "openinference-instrumentation-openai",
    "openinference-instrumentation-anthropic",
    "openinference-instrumentation-google-genai",
    "opentelemetry-sdk",
)


def _openai() -> Any:
    from openinference.instrumentation.openai import OpenAIInstrumentor

    return OpenAIInstrumentor()


def _anthropic() -> Any:
    from openinference.instrumentation.anthropic import AnthropicInstrumentor

    return AnthropicInstrumentor()


def _gemini() -> Any:
    from openinference.instrumentation.google_genai import GoogleGenAIInstrumentor

    return GoogleGenAIInstrumentor()


peer = OTelPeer({"openai": _openai, "anthropic": _anthropic, "gemini": _gemini})


def setup(provider: str, workdir: str) -> None:
    peer.enable(provider)


enable, disable, parent, flush, proof = peer.enable, peer.disable, peer.parent, peer.flush, peer.proof
