"""autolog(): idempotent, removable, lazy, and clear about a missing SDK."""

from __future__ import annotations

import subprocess
import sys
import types as pytypes
from typing import Any

import pytest
from gemini_spans import MODEL, PROMPT
from google.genai import models

import tracekit
from tracekit import _llm
from tracekit._providers.gemini import _patches as tk_gemini
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

_PRIVATE = ("_generate_content", "_generate_content_stream", "_embed_content")


def test_idempotent(client: Any, captured: SpanCapture) -> None:
    tracekit.gemini.autolog()
    tracekit.gemini.autolog()
    client.models.generate_content(model=MODEL, contents=PROMPT)
    assert len(captured.spans) == 1


def test_disable_restores_every_method(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    for cls in (models.Models, models.AsyncModels):
        for name in _PRIVATE:
            assert type(vars(cls)[name]).__name__ == "FunctionWrapper"
    tracekit.gemini.autolog(disable=True)
    for cls in (models.Models, models.AsyncModels):
        for name in (*_PRIVATE, "generate_content", "generate_content_stream", "embed_content"):
            assert type(vars(cls)[name]).__name__ == "function", (cls, name)
    client.models.generate_content(model=MODEL, contents=PROMPT)
    list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))
    assert captured.spans == [] and len(server.requests) == 2
    tracekit.gemini.autolog(disable=True)  # twice is fine too


def test_public_methods_stay_untouched() -> None:
    # the per-request private methods are patched, so a chat turn or an AFC loop
    # (which call the public ones) is never traced twice
    for cls in (models.Models, models.AsyncModels):
        for name in ("generate_content", "generate_content_stream", "embed_content"):
            assert type(vars(cls)[name]).__name__ == "function"


def test_tracekit_autolog_includes_gemini(client: Any, captured: SpanCapture) -> None:
    tracekit.gemini.autolog(disable=True)
    try:
        assert "gemini" in tracekit.autolog()
        client.models.generate_content(model=MODEL, contents=PROMPT)
        assert len(captured.spans) == 1
    finally:
        tracekit.autolog(disable=True)  # leave the other providers as they were
        tracekit.gemini.autolog()


def test_older_sdk_without_private_methods_patches_public_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = pytypes.ModuleType("fake_genai_models")

    class Models:
        def generate_content(self) -> None: ...
        def generate_content_stream(self) -> None: ...
        def embed_content(self) -> None: ...

    class AsyncModels(Models):
        def _generate_content(self) -> None: ...

    fake.Models, fake.AsyncModels = Models, AsyncModels  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_genai_models", fake)
    monkeypatch.setattr(tk_gemini, "_MODULE", "fake_genai_models")
    rows = [(row.cls, row.method) for row in tk_gemini._patch_table()]
    assert rows == [
        ("Models", "generate_content"),
        ("Models", "generate_content_stream"),
        ("Models", "embed_content"),
        ("AsyncModels", "_generate_content"),
        ("AsyncModels", "generate_content_stream"),
        ("AsyncModels", "embed_content"),
        ("BaseApiClient", "_build_request"),  # the request tap that adds traceparent
    ]


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    tracekit.gemini.autolog(disable=True)
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "google.genai.models", None)
        with pytest.raises(ImportError, match=r"pip install 'tracekit\[gemini\]'"):
            tracekit.gemini.autolog()
        tracekit.gemini.autolog(disable=True)  # disabling needs no SDK


def test_import_tracekit_imports_no_sdk() -> None:
    code = "import sys, tracekit, tracekit.gemini; assert 'google.genai' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_applied_rows_are_known_to_the_core() -> None:
    assert all(_llm.is_applied(row) for row in tk_gemini._patch_table())
