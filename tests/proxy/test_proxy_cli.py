"""The command: ``-- COMMAND`` mode (base-URL variables set, exit code passed on),
``--session``, the loud warning off loopback, usage errors, and ``import tracekit``
staying free of aiohttp."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tracekit._cli import main
from tracekit.testing import FakeLLMServer

from .conftest import ROOT, ProxyProcess

CLIENT = textwrap.dedent(
    """
    import json, os, sys, urllib.request
    print("ENV", json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))
    def post(url, body):
        request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
        return json.load(urllib.request.urlopen(request))
    messages = [{"role": "user", "content": "hi"}]
    post(os.environ["OPENAI_BASE_URL"] + "/chat/completions", {"model": "gpt-4o-mini", "messages": messages})
    post(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages", {"model": "claude-x", "max_tokens": 9, "messages": messages})
    sys.exit(3)
    """
)

VARIABLES = ["OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL"]


def test_command_mode_sets_base_urls_and_passes_the_exit_code_on(server: FakeLLMServer, tmp_path: Path) -> None:
    # off loopback (0.0.0.0): it works, and says so loudly
    proxy = ProxyProcess(
        server.url,
        tmp_path / "cmd.db",
        ["--host", "0.0.0.0", "--session", "my-run", "--", sys.executable, "-c", CLIENT, *VARIABLES],
    )
    code = proxy.wait()
    assert code == 3
    proxy.assert_no_internal_error()
    env_line = next(line for line in proxy.stdout.splitlines() if line.startswith("ENV "))
    port = proxy.url.rsplit(":", 1)[1]
    base = f"http://0.0.0.0:{port}"
    assert env_line == "ENV " + json.dumps(
        {
            "OPENAI_BASE_URL": base + "/v1",
            "ANTHROPIC_BASE_URL": base,
            "GOOGLE_GEMINI_BASE_URL": base,
        }
    )
    assert "WARNING: listening on 0.0.0.0, not on loopback" in proxy.stderr
    spans = proxy.spans()
    assert [s.name for s in spans] == ["chat gpt-4o-mini", "chat claude-x"]
    assert {s.attributes["session.id"] for s in spans} == {"my-run"}
    assert {s.attributes["tracekit.proxy.session_source"] for s in spans} == {"--session"}


def test_preset_upstream_sets_only_its_providers_variable() -> None:
    from tracekit._proxy._run import client_environment, resolve_upstream

    assert resolve_upstream("anthropic") == "https://api.anthropic.com"
    assert resolve_upstream("OpenAI") == "https://api.openai.com"
    assert resolve_upstream("gemini") == "https://generativelanguage.googleapis.com"
    assert client_environment("http://127.0.0.1:1", "anthropic") == {
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:1",
    }


def test_usage_errors() -> None:
    err = io.StringIO()
    sys_err, sys.stderr = sys.stderr, err
    try:
        assert main(["proxy", "--upstream", "ftp://nope"]) == 2
        assert main(["proxy", "--upstream", "openai", "--port", "70000"]) == 2
        assert main(["proxy"]) == 2  # --upstream is required
    finally:
        sys.stderr = sys_err


def test_import_tracekit_does_not_import_aiohttp() -> None:
    code = "import sys, tracekit, tracekit._cli; tracekit._cli.build_parser(); print('aiohttp' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"
