"""``tracekit.langchain.autolog()``: on, off, idempotent, for objects made before it;
``tracekit.autolog()`` includes it; ``import tracekit`` imports no LangChain."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from langchain_core.callbacks import CallbackManager
from lc_helpers import tree

import tracekit
import tracekit.langchain
from tracekit import _langchain
from tracekit.testing import FakeLLMServer, SpanCapture


def _run(llm: Any) -> str:
    return str(tracekit.trace(name="app")(llm.invoke)("hi").content)


def test_objects_made_before_autolog_are_traced(llm: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("text")
    tracekit.langchain.autolog(disable=True)
    _run(llm)  # llm exists before autolog(): nothing to see yet
    assert tree(captured.traces[0]) == [(0, "app", "CHAIN", "OK")]
    captured.clear()
    tracekit.langchain.autolog()
    _run(llm)
    assert tree(captured.traces[0]) == [(0, "app", "CHAIN", "OK"), (1, "ChatOpenAI", "CHAT_MODEL", "OK")]


def test_idempotent_and_disable(llm: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("text")
    handler = _langchain.handler()
    tracekit.langchain.autolog()
    tracekit.langchain.autolog()
    assert _langchain.handler() is handler
    _run(llm)
    assert tree(captured.traces[0]) == [(0, "app", "CHAIN", "OK"), (1, "ChatOpenAI", "CHAT_MODEL", "OK")]
    # the handler is added once per callback manager, however often autolog() ran
    manager = CallbackManager.configure()
    assert manager.handlers.count(handler) == 1
    assert manager.inheritable_handlers.count(handler) == 1
    captured.clear()
    tracekit.langchain.autolog(disable=True)
    assert not _langchain.is_enabled()
    assert handler not in CallbackManager.configure().handlers
    _run(llm)
    assert tree(captured.traces[0]) == [(0, "app", "CHAIN", "OK")]


def test_tracekit_autolog_includes_langchain() -> None:
    tracekit.langchain.autolog(disable=True)
    try:
        assert "langchain" in tracekit.autolog()
        assert _langchain.is_enabled()
    finally:
        tracekit.autolog(disable=True)
    assert not _langchain.is_enabled()


def test_disabled_tracing_records_nothing(llm: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("text")
    tracekit.configure(enabled=False)
    assert _run(llm) == "Hello! This is the fake LLM server."
    assert captured.spans == []


def test_import_tracekit_imports_no_langchain() -> None:
    code = (
        "import sys, tracekit; tracekit.autolog; tracekit.langchain; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('langchain', 'langchain_core', 'langgraph')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_an_unsampled_run_leaves_the_flow_free(llm: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    from lc_helpers import make_agent

    tracekit.configure(sample_rate=0.0)
    agent = make_agent(llm, [])
    server.set_scenario("text")
    await agent.ainvoke({"messages": [{"role": "user", "content": "hi"}]})
    assert captured.spans == []
    tracekit.configure(sample_rate=1.0)
    with tracekit.start_span("next") as span:  # not inside the unsampled run's marker
        assert span.is_recording
    assert [s.name for s in captured.spans] == ["next"]
