"""autolog(): idempotent, disable removes every patch, works whenever clients were made."""

from __future__ import annotations

import subprocess
import sys

import pytest
from openai import OpenAI
from openai_helpers import MESSAGES, MODEL

import tracekit
import tracekit.openai
from tracekit import _llm
from tracekit._providers.openai._patches import PATCHES
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def _all_calls(client: OpenAI) -> None:
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES).parse()
    for _ in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
        pass
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        stream.get_final_completion()
    client.responses.create(model=MODEL, input="hi")
    with client.responses.stream(model=MODEL, input="hi") as rstream:
        rstream.get_final_response()
    client.embeddings.create(model="text-embedding-3-small", input="hi")
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi")


def test_every_row_applies() -> None:
    assert all(_llm.is_applied(row) for row in PATCHES)


def test_idempotent(client: OpenAI, captured: SpanCapture) -> None:
    tracekit.openai.autolog()
    tracekit.openai.autolog()
    _all_calls(client)
    assert len(captured.spans) == 8


def test_disable_removes_every_patch(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    _all_calls(client)  # the SDK caches bound methods (with_raw_response) while patched
    captured.clear()
    tracekit.openai.autolog(disable=True)

    assert not any(_llm.is_applied(row) for row in PATCHES)
    import importlib

    import wrapt

    for row in PATCHES:
        owner = getattr(importlib.import_module(row.module), row.cls)
        assert not isinstance(owner.__dict__[row.method], wrapt.FunctionWrapper), row
    _all_calls(client)
    assert captured.spans == []

    tracekit.openai.autolog()
    _all_calls(client)
    assert len(captured.spans) == 8


def test_client_created_before_autolog(server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.openai.autolog(disable=True)
    with OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0) as early:
        early.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert captured.spans == []
        tracekit.openai.autolog()
        early.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert len(captured.spans) == 1


def test_disabled_setting_traces_nothing(client: OpenAI, captured: SpanCapture) -> None:
    tracekit.configure(enabled=False)
    _all_calls(client)
    assert captured.spans == []


def test_import_tracekit_does_not_import_openai() -> None:
    code = "import sys, tracekit, tracekit.openai; assert 'openai' not in sys.modules, 'openai imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_openai_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(ImportError, match=r"pip install 'tracekit\[openai\]'"):
        tracekit.openai.autolog()
