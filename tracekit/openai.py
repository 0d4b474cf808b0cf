"""Trace every call of the OpenAI Python SDK: ``tracekit.openai.autolog()``.

>>> import tracekit
>>> tracekit.openai.autolog()
>>> from openai import OpenAI
>>> client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="test")
>>> client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

Sync and async clients (``OpenAI``, ``AsyncOpenAI``, ``AzureOpenAI``, ``AsyncAzureOpenAI``):
``chat.completions.create`` / ``parse`` / ``stream()``, ``responses.create`` / ``parse`` /
``stream()``, ``embeddings.create``, ``completions.create``, and their
``with_raw_response`` / ``with_streaming_response`` forms. One span per SDK call,
named ``{operation} {model}`` (``chat gpt-4o-mini``). See ``docs/openai.md``.
"""

from __future__ import annotations

from tracekit._providers.openai._patches import autolog

__all__ = ["autolog"]
