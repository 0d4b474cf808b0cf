"""The same handler with the LiteLLM SDK (``litellm.callbacks = [tracekit.litellm.handler]``):
``completion`` calls the sync hooks (in a ``litellm-logging`` thread), ``acompletion`` the
async ones (in LiteLLM's logging worker, flushed at exit after tracekit's own drain). Run
in a fresh interpreter of the LiteLLM virtualenv (litellm pins openai<3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tracekit.testing import FakeLLMServer

from .proxy import REPO, litellm_python, spans_by_call_id

SDK_KEY = "sk-sdk-SECRET-3"

SCRIPT = """
import asyncio, json, sys
import litellm
import tracekit
import tracekit.litellm

litellm.callbacks = [tracekit.litellm.handler]
base, key = sys.argv[1], sys.argv[2]
ids = {}

def ask(text, **kw):
    return litellm.completion(model="openai/gpt-4o-mini", api_base=base, api_key=key,
                              messages=[{"role": "user", "content": text}], **kw)

ids["sync"] = ask("sync call", temperature=0.2)._hidden_params["litellm_call_id"]
stream = ask("sync stream", stream=True, stream_options={"include_usage": True})
text = "".join(c.choices[0].delta.content or "" for c in stream)
ids["stream"] = stream.logging_obj.litellm_call_id
with tracekit.start_span("app", span_type="CHAIN") as app:
    # a caller that wants the SDK's span under its own passes its traceparent as a header
    r = ask("nested", metadata={"headers": {"traceparent": app.traceparent}})
    ids["nested"] = r._hidden_params["litellm_call_id"]
    ids["app_span"] = app.span_id
try:
    ask("fails [scenario:error_500]", num_retries=0)
except Exception as exc:
    ids["error_type"] = type(exc).__name__

async def main():
    r = await litellm.acompletion(model="openai/gpt-4o-mini", api_base=base, api_key=key,
                                  messages=[{"role": "user", "content": "async call"}])
    return r._hidden_params["litellm_call_id"]

ids["async"] = asyncio.run(main())
print(json.dumps({"ids": ids, "text": text}))
"""


def test_sdk_calls_sync_and_async_hooks_one_span_each(tmp_path: Path, fake_llm: FakeLLMServer) -> None:
    python = litellm_python()
    store = tmp_path / "sdk.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_", "LITELLM_"))}
    env.update(
        {
            "TRACEKIT_TRACKING_URI": f"sqlite:///{store}",
            "TRACEKIT_HOME": str(tmp_path / "home"),
            "TRACEKIT_STRICT": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "PYTHONPATH": str(REPO),
        }
    )
    done = subprocess.run(
        [python, "-c", textwrap.dedent(SCRIPT), fake_llm.openai_base_url, SDK_KEY],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "tracekit internal error" not in done.stderr and "tracekit/_" not in done.stderr, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ids = result["ids"]
    assert result["text"] == "Hello! This is the fake LLM server."

    spans = spans_by_call_id(store)
    known = [ids[k] for k in ("sync", "stream", "nested", "async")]
    assert len(spans) == 5 and set(known) <= set(spans)  # one span per call (the failed one's id is not returned)
    sync, stream, nested, async_ = (spans[c] for c in known)
    (error,) = (s for c, s in spans.items() if c not in known)
    assert ids["error_type"] == "InternalServerError"
    assert sync.name == "litellm chat gpt-4o-mini"
    assert sync.inputs == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "sync call"}], "temperature": 0.2}
    assert sync.outputs["choices"][0]["message"]["content"] == "Hello! This is the fake LLM server."
    assert sync.attributes["gen_ai.provider.name"] == "openai"
    assert sync.attributes["gen_ai.request.temperature"] == 0.2
    assert json.loads(sync.attributes["mlflow.llm.cost"])["total_cost"] > 0
    assert (sync.status, sync.parent_id) == ("OK", None)
    assert stream.attributes["tracekit.stream"] is True
    assert stream.outputs["choices"][0]["message"]["content"] == "Hello! This is the fake LLM server."
    assert json.loads(stream.attributes["mlflow.chat.tokenUsage"])["output_tokens"] == 20
    assert nested.parent_id == ids["app_span"]
    assert (error.status, error.attributes["http.response.status_code"]) == ("ERROR", 500)
    assert async_.status == "OK" and async_.inputs["messages"] == [{"role": "user", "content": "async call"}]

    data = b"".join(p.read_bytes() for p in tmp_path.glob("sdk.db*"))
    assert SDK_KEY.encode() not in data


def test_import_tracekit_does_not_import_litellm() -> None:
    code = "import sys, tracekit; tracekit.start_span; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.stdout.strip() == "False", out.stderr


ODD_CALLS = """
import asyncio, datetime
import tracekit
from tracekit import _errors
from tracekit.litellm import handler

now = datetime.datetime.now()
odd = [
    ({}, None, None, None),
    ({"standard_logging_object": "not a dict", "litellm_params": 5}, object(), "a", "b"),
    ({"standard_logging_object": {"response": ["x"], "cost_breakdown": 3, "response_cost": "1"}}, None, now, now),
    ({"litellm_params": {"proxy_server_request": {"headers": {"traceparent": "garbage"}, "body": "x"}}}, 1, now, now),
    ("not a mapping", None, None, None),
]
for args in odd:
    handler.log_success_event(*args)
    handler.log_failure_event(*args)
    asyncio.run(handler.async_log_success_event(*args))
    asyncio.run(handler.async_log_failure_event(*args))
assert _errors.counts == {}, _errors.counts
print("ok")
"""


def test_odd_callback_data_never_raises_nor_reports(tmp_path: Path) -> None:
    """Strict mode: any internal error would raise; none does, whatever LiteLLM passes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_", "LITELLM_"))}
    env.update({"TRACEKIT_TRACKING_URI": f"sqlite:///{tmp_path / 'odd.db'}", "TRACEKIT_STRICT": "1", "PYTHONPATH": str(REPO)})
    done = subprocess.run(
        [litellm_python(), "-c", textwrap.dedent(ODD_CALLS)], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-4000:]


ASYNC_ONLY = """
import asyncio, json, sys
import litellm
import tracekit.litellm

litellm.callbacks = [tracekit.litellm.handler]

async def main():
    rs = await asyncio.gather(*(
        litellm.acompletion(model="openai/gpt-4o-mini", api_base=sys.argv[1], api_key="k",
                            messages=[{"role": "user", "content": f"async {i}"}])
        for i in range(5)
    ))
    # asyncio.run() cancels the tasks still running when main() returns -- LiteLLM's
    # logging tasks among them (litellm 1.106.12): those callbacks never run, for any logger.
    # A short-lived script waits for LiteLLM's logging worker first (docs/litellm.md)
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER
    await GLOBAL_LOGGING_WORKER.flush()
    return [r._hidden_params["litellm_call_id"] for r in rs]

print(json.dumps(asyncio.run(main())))  # then exits at once: tracekit's exit hook drains
"""


def test_acompletion_spans_of_a_short_script_are_all_drained_at_exit(tmp_path: Path, fake_llm: FakeLLMServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_", "LITELLM_"))}
    store = tmp_path / "async.db"
    env.update({"TRACEKIT_TRACKING_URI": f"sqlite:///{store}", "TRACEKIT_STRICT": "1", "PYTHONPATH": str(REPO)})
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    done = subprocess.run(
        [litellm_python(), "-c", textwrap.dedent(ASYNC_ONLY), fake_llm.openai_base_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "tracekit internal error" not in done.stderr, done.stderr[-4000:]
    call_ids = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(spans_by_call_id(store)) == sorted(call_ids)
