"""A screenshot of one gateway-linked trace in the real MLflow UI (docs/img/mlflow-gateway-trace.png).

Starts ``mlflow server`` with its AI Gateway (the settings of ``tests/gateway``), configures
OpenAI, Anthropic and Gemini endpoints over REST in front of tracekit's fake LLM server, runs
one app-shaped trace that calls all three SDKs through the gateway (autologged by tracekit,
exported to the same server) and photographs the trace: the app's CHAIN span, each SDK's LLM
span, and under it the gateway's ``gateway/<endpoint>`` and provider spans.

Needs what ``scripts/mlflow_ui_screenshots.py`` needs (Playwright in ``.venv-ui`` or
``$TK_PLAYWRIGHT_PYTHON``, Debian's chromium) and reuses its browser settings:

    .venv/bin/python scripts/mlflow_gateway_screenshot.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]

from mlflow_ui_screenshots import CHROMIUM_ARGS, DISMISSED, WIDTH, browser_python  # noqa: E402

NAME = "mlflow-gateway-trace.png"


def ship_trace(experiment: str) -> tuple[Any, dict[str, Any]]:
    """Start the server and the fake, run the app once; (server, job for the browser half)."""
    import requests
    from export.mlflow_server import GATEWAY_ENV, MlflowServer
    from gateway.conftest import ANTHROPIC_MODEL, GEMINI_MODEL, OPENAI_MODEL, Gateway
    from gateway.gateway_setup import create_endpoint
    from gateway.linking import noting_llm_spans
    from gateway.test_mlflow_gateway_linked import call_anthropic, call_gemini, call_openai

    import tracekit
    from tracekit.testing import FakeLLMServer

    os.environ["TRACEKIT_HOME"] = tempfile.mkdtemp(prefix="tk-home-")
    server = MlflowServer(Path(tempfile.mkdtemp(prefix="tk-mlflow-gw-")), env=GATEWAY_ENV)
    server.start()
    server.wait_healthy()
    fake = FakeLLMServer().start()
    gw = Gateway(
        server,
        fake,
        create_endpoint(server.uri, provider="openai", model=OPENAI_MODEL, api_base=fake.url + "/v1", name="chat"),
        create_endpoint(server.uri, provider="anthropic", model=ANTHROPIC_MODEL, api_base=fake.url + "/v1", name="claude"),
        create_endpoint(server.uri, provider="databricks", model=GEMINI_MODEL, api_base=fake.url, name="gemini"),
    )
    tracekit.autolog()
    tracekit.set_tracking_uri(server.uri)
    tracekit.set_experiment(experiment)
    with noting_llm_spans(), tracekit.start_span("trip_planner", span_type="CHAIN", inputs={"city": "Paris"}) as root:
        answers = [call_openai(gw, False), call_anthropic(gw, True), call_gemini(gw, False)]
        root.set_outputs(answers[0])
    result = tracekit.flush(timeout=120)
    assert result.pending == 0, result
    r = requests.get(f"{server.uri}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": experiment}, timeout=30)
    r.raise_for_status()
    job = {"uri": server.uri, "experiment_id": r.json()["experiment"]["experiment_id"], "trace_id": root.trace_id}
    return server, job


def capture(job: dict[str, Any], out: Path) -> None:
    """Photograph the trace in full screen (runs under the browser Python)."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    base = f"{job['uri']}/#/experiments/{job['experiment_id']}/traces"
    init = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in DISMISSED.items())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": WIDTH, "height": 760})
        page.add_init_script(init)
        page.goto(f"{base}?selectedEvaluationId={job['trace_id']}")
        page.get_by_role("button", name="Full screen").click()
        page.get_by_text("trip_planner").first.wait_for()
        page.wait_for_load_state("load")
        page.wait_for_timeout(1500)
        page.get_by_text("gateway/chat", exact=True).first.click()  # the gateway's span, selected
        page.wait_for_timeout(1200)
        page.evaluate(
            "for (const b of document.querySelectorAll('button'))"
            " if (b.innerText.trim() === 'MLflow Assistant') b.style.display = 'none'"
        )
        page.mouse.move(WIDTH - 5, 5)
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / NAME))
        print(f"wrote {out / NAME}")
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    parser.add_argument("--experiment", default="gateway-demo")
    parser.add_argument("--browser-python", help="a Python with playwright installed")
    parser.add_argument("--capture", help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.capture:
        capture(json.loads(args.capture), out)
        return 0
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    server, job = ship_trace(args.experiment)
    try:
        subprocess.run(
            [browser_python(args.browser_python), __file__, "--out", str(out), "--capture", json.dumps(job)],
            check=True,
            timeout=600,
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
