"""Start and stop a real LiteLLM Proxy (``litellm --config``) with tracekit's callback, and
read its spans back from the local store it writes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tracekit._model import SpanData
from tracekit._store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
MASTER_KEY = "sk-master-SECRET-0"
#: upstream keys in the proxy's config: they must never reach a span, the store or a log
OPENAI_KEY = "sk-upstream-SECRET-1"
ANTHROPIC_KEY = "sk-ant-SECRET-2"
SECRETS = (MASTER_KEY, OPENAI_KEY, ANTHROPIC_KEY)
#: the deployments: gpt-4o-mini (OpenAI) and claude-haiku (Anthropic through LiteLLM's
#: unified chat route); both models are in LiteLLM's local price table, so LiteLLM prices them
ANTHROPIC_MODEL = "claude-haiku-4-5-20251001"


def litellm_binary() -> str | None:
    """``$TK_LITELLM_BIN``, else the repo's ``.venv-litellm`` (``scripts/test.sh`` creates it)."""
    for candidate in (os.environ.get("TK_LITELLM_BIN"), str(REPO / ".venv-litellm" / "bin" / "litellm")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def need_litellm() -> str:
    """The proxy binary; in CI (``CI=true``) a missing one fails loudly, locally it skips."""
    binary = litellm_binary()
    if binary is None:
        message = "no LiteLLM proxy: run `bash scripts/test.sh` (it creates .venv-litellm) or set TK_LITELLM_BIN"
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return binary


def litellm_python() -> str:
    """The python of the LiteLLM virtualenv (for the SDK tests)."""
    return str(Path(need_litellm()).parent / "python")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def proxy_config(upstream: str) -> str:
    """The proxy's YAML: two deployments on the fake server, tracekit's callback."""
    return f"""\
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {upstream}/v1
      api_key: {OPENAI_KEY}
  - model_name: claude-haiku
    litellm_params:
      model: anthropic/{ANTHROPIC_MODEL}
      api_base: {upstream}
      api_key: {ANTHROPIC_KEY}
litellm_settings:
  callbacks: ["tracekit.litellm.handler"]
  disable_cooldowns: true
  num_retries: 0
  request_timeout: 30
general_settings:
  master_key: {MASTER_KEY}
"""


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_", "LITELLM_"))}
    env.update(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of the price table
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "TRACEKIT_STRICT": "1",  # an internal error raises (and shows in the proxy's log)
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    env.update(extra)
    return env


class LiteLLMProxy:
    """One ``litellm`` proxy process (its own session: SIGTERM to its group stops it)."""

    def __init__(self, workdir: Path, upstream: str, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.env = clean_env({"TRACEKIT_HOME": str(workdir / "tracekit-home"), **env})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "proxy.log"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "config.yaml").write_text(proxy_config(upstream))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [
            need_litellm(), "--config", str(self.workdir / "config.yaml"),
            "--host", "127.0.0.1", "--port", str(self.port), "--telemetry", "False",
        ]  # fmt: skip
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"litellm proxy exited: {self.log()[-4000:]}")
            try:
                if requests.get(f"{self.base_url}/health/liveliness", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"litellm proxy not ready after {timeout} s: {self.log()[-4000:]}")

    def stop(self) -> int | None:
        """SIGTERM (uvicorn shuts down, the interpreter exits, tracekit's exit hook drains);
        returns the exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything of its group left behind
        except ProcessLookupError:
            pass
        return proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def assert_no_internal_errors(self) -> None:
        text = self.log()
        assert "tracekit internal error" not in text, text[-4000:]
        assert "tracekit/_" not in text, text[-4000:]  # no traceback through tracekit's code


# --- reading spans back ----------------------------------------------------------------------

CALL_ID = "tracekit.litellm.call_id"


def spans_by_call_id(store_path: Path) -> dict[str, SpanData]:
    """Every proxy span in the store, by LiteLLM call id."""
    if not store_path.exists():
        return {}
    store = SQLiteStore(store_path)
    found: dict[str, SpanData] = {}
    for info in store.list_traces(limit=None):
        trace = store.get_trace(info.trace_id)
        for span in trace.spans if trace is not None else []:
            call_id = span.attributes.get(CALL_ID)
            if call_id:
                found[str(call_id)] = span
    return found


def wait_spans(store_path: Path, call_ids: list[str], timeout: float = 60.0) -> dict[str, SpanData]:
    """The spans of ``call_ids``, waiting for the proxy's background export."""
    deadline = time.monotonic() + timeout
    while True:
        found = spans_by_call_id(store_path)
        if all(c in found for c in call_ids):
            return {c: found[c] for c in call_ids}
        if time.monotonic() > deadline:
            missing = [c for c in call_ids if c not in found]
            raise AssertionError(f"{len(missing)} of {len(call_ids)} spans never arrived: {missing[:5]}")
        time.sleep(0.2)


def llm_attributes(span: SpanData) -> dict[str, Any]:
    """The span's attributes without the ones that vary per call (ids, timings, overhead)."""
    varying = (
        "tracekit.litellm.call_id",
        "gen_ai.response.id",
        "tracekit.litellm.overhead_ms",
        "tracekit.stream.time_to_first_token_ms",
    )
    return {k: v for k, v in span.attributes.items() if k not in varying}
