"""A stream still open when the interpreter exits is recorded -- incomplete, with what
arrived -- by the exit hook, without shutdown noise on stderr. Runs a real app in a
subprocess: the real openai SDK against tracekit.testing.FakeLLMServer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracekit._store import SQLiteStore

APP = """
import asyncio, sys
import tracekit
from openai import AsyncOpenAI, OpenAI
from tracekit.testing import FakeLLMServer

tracekit.configure(tracking_uri="sqlite:///" + sys.argv[1])
tracekit.openai.autolog()
server = FakeLLMServer().start()
ARGS = dict(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True)
KEEP = []

@tracekit.trace
def ask():
    stream = OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0).chat.completions.create(**ARGS)
    KEEP.append(stream)  # a module-level reference: still open at exit
    return next(iter(stream)).choices[0].delta.role

async def ask_async():
    client = AsyncOpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0)
    stream = await client.chat.completions.create(**ARGS)
    KEEP.append(stream)
    return (await stream.__anext__()).choices[0].delta.role

print(ask() if sys.argv[2] == "sync" else asyncio.run(ask_async()), flush=True)
"""


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_stream_open_at_exit_is_recorded_incomplete_without_noise(tmp_path: Path, flavour: str) -> None:
    db = tmp_path / "traces.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env["TRACEKIT_HOME"] = str(tmp_path / "home")
    proc = subprocess.run([sys.executable, "-c", APP, str(db), flavour], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "assistant\n"
    assert proc.stderr == ""  # no "dropping spans", no exception ignored in __del__
    store = SQLiteStore(db)
    spans = [s for info in store.list_traces(limit=10) for s in store.get_trace(info.trace_id).spans]  # type: ignore[union-attr]
    [llm] = [s for s in spans if s.span_type == "CHAT_MODEL"]
    assert llm.name == "chat gpt-4o-mini" and llm.status == "OK"
    attributes = llm.attributes
    assert attributes["tracekit.stream"] is True
    assert attributes["tracekit.stream.incomplete"] is True
    assert attributes["tracekit.stream.end_reason"] == "abandoned"
    assert attributes["tracekit.stream.chunks"] == 1
    assert "tracekit.stream.time_to_first_token_ms" in attributes
    if flavour == "sync":
        [root] = [s for s in spans if s.name == "ask"]
        assert llm.parent_id == root.span_id and root.outputs == "assistant"
