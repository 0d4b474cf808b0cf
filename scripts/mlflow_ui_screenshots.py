"""Screenshots of tracekit traces in the real MLflow UI, taken by headless Chromium.

Starts ``mlflow server`` (SQLite, 127.0.0.1) unless ``--uri`` names a running one,
runs the app of ``tests/export/test_mlflow_providers.py`` -- real openai, anthropic
and google-genai SDK calls (streamed and not, with tools) against tracekit's fake
LLM server, autologged by tracekit and shipped over OTLP -- and photographs the UI
into ``docs/img/``:

* ``mlflow-trace-list.png``: the trace list (name, request/response previews, user,
  session, state, tokens, cost, tags)
* ``mlflow-trace-view.png``: one trace: the span tree with type icons, per-span
  tokens and cost, the trace's status/duration/tokens, session and tags
* ``mlflow-openai-span.png``, ``mlflow-anthropic-span.png``, ``mlflow-gemini-span.png``:
  a CHAT_MODEL span of each provider: model/token/cost badges, the Tools section,
  System/User/Assistant/Tool message cards
* ``mlflow-error-span.png``: the failed provider call and its exception event

Chromium is driven by Playwright (``pip install playwright`` into its own
virtualenv; its Python wheel carries the driver, so no ``playwright install``:
it launches Debian's ``/usr/bin/chromium``). The 3.17 UI opens with its assistant
side panel and a "Detect Issues" popover over the page; both remember being
dismissed in localStorage, which is set before the app loads.

    python3 -m venv .venv-ui && .venv-ui/bin/pip install playwright
    apt-get install -y chromium
    .venv/bin/python scripts/mlflow_ui_screenshots.py [--uri http://127.0.0.1:5000] [--out docs/img]

The tracekit half runs in the interpreter that starts the script (it needs tracekit
and the three SDKs); the browser half runs as ``--capture`` under
``--browser-python`` (default ``$TK_PLAYWRIGHT_PYTHON``, else ``.venv-ui/bin/python``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 1440
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# what the UI stores once its assistant panel / onboarding popover was dismissed (mlflow 3.17)
DISMISSED = {
    "mlflow.assistant.panelOpen_v1": "false",
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",
    "mlflow.detectIssues.guidanceShown_v1": "true",
}
# (user, session, question) of the demo runs, oldest first
RUNS = [
    ("user-ada", "session-paris-1", "I have one free day in Paris. What should I do?"),
    ("user-grace", "session-lyon-7", "Plan a rainy afternoon in Lyon."),
    ("user-ada", "session-paris-1", "And where should I eat near the Musée d'Orsay?"),
]


# --------------------------------------------------------------------------- traces
def ship_traces(uri: str, experiment: str) -> dict[str, Any]:
    """Run the demo app against the fake LLM server with tracekit autolog; return ids."""
    sys.path.insert(0, str(ROOT))
    import requests

    import tracekit
    from tests.export.test_mlflow_providers import run_failing_agent, run_trip_agent
    from tracekit.testing import FakeLLMServer

    os.environ["TRACEKIT_HOME"] = tempfile.mkdtemp(prefix="tk-home-")
    tracekit.autolog()
    tracekit.set_tracking_uri(uri)
    tracekit.set_experiment(experiment)
    trace_ids = []
    with FakeLLMServer() as server:
        for i, (user, session, question) in enumerate(RUNS):
            trace_ids.append(run_trip_agent(server, question, session_id=session, user_id=user).trace_id)
            if i == 1:
                run_failing_agent(server)
    result = tracekit.flush(timeout=60)
    assert result.ok and result.delivered == 3 * 9 + 2, result
    r = requests.get(f"{uri}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": experiment}, timeout=30)
    r.raise_for_status()
    return {"uri": uri, "experiment_id": r.json()["experiment"]["experiment_id"], "trace_id": trace_ids[0]}


# --------------------------------------------------------------------------- browser
def capture(job: dict[str, Any], out: Path) -> None:
    """Drive the MLflow UI with Playwright and write the PNGs (runs under --browser-python)."""
    from playwright.sync_api import Page, sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        raise SystemExit("chromium not found: apt-get install -y chromium")
    base = f"{job['uri']}/#/experiments/{job['experiment_id']}/traces"
    init = "".join(f"localStorage.setItem({k!r}, {v!r});" for k, v in DISMISSED.items())

    def settle(page: Page, ms: int = 800) -> None:
        page.wait_for_load_state("load")  # the UI polls, so the network never goes idle
        page.wait_for_timeout(ms)

    def hide_assistant_button(page: Page) -> None:
        page.evaluate(
            "for (const b of document.querySelectorAll('button'))"
            " if (b.innerText.trim() === 'MLflow Assistant') b.style.display = 'none'"
        )

    def shoot(page: Page, name: str, *, hover: bool = False) -> None:
        hide_assistant_button(page)
        if not hover:
            page.mouse.move(WIDTH - 5, 5)  # no stray hover effects
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / name))
        print(f"wrote {out / name} ({(out / name).stat().st_size // 1024} KiB)")

    def shoot_span(page: Page, name: str) -> None:
        """The span's detail pane down to its first output message card: laid out in a
        tall viewport (so nothing scrolls), then clipped."""
        page.set_viewport_size({"width": WIDTH, "height": 2400})
        page.wait_for_timeout(500)
        bottom = page.evaluate(
            """() => {
                const texts = (word) => {
                    const found = [];
                    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                    while (walk.nextNode()) {
                        if (walk.currentNode.textContent.trim() === word) found.push(walk.currentNode.parentElement);
                    }
                    return found;
                };
                const out = texts('Outputs')[0];
                const top = out ? out.getBoundingClientRect().top : 0;
                let card = texts('Assistant').find(e => e.getBoundingClientRect().top > top);
                while (card && getComputedStyle(card).borderTopWidth === '0px') card = card.parentElement;
                return card ? card.getBoundingClientRect().bottom : 900;
            }"""
        )
        hide_assistant_button(page)
        page.mouse.move(WIDTH - 5, 5)
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / name), clip={"x": 0, "y": 0, "width": WIDTH, "height": max(700, int(bottom) + 16)})
        print(f"wrote {out / name} ({(out / name).stat().st_size // 1024} KiB)")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": WIDTH, "height": 640})
        page.add_init_script(init)

        # 1. the trace list, with the columns the issue asks for
        page.goto(base)
        page.get_by_role("columnheader").first.wait_for()
        settle(page, 1500)
        page.click("button[aria-label='Toggle sidebar']")
        page.click("button[aria-label='Display']")
        page.get_by_role("menuitem", name="Columns").hover()
        for column in ("Trace name", "User", "Cost", "Time", "Duration", "Tags", "team", "release"):
            page.get_by_role("menuitemcheckbox", name=column, exact=True).first.click()
            page.wait_for_timeout(150)
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        widths = {"Trace name": 125, "Input": 210, "Output": 225, "User": 95, "Session": 130, "State": 85}
        widths |= {"Tokens": 90, "Cost": 95, "team": 85, "release": 100}
        for header, width in widths.items():
            cell = page.get_by_role("columnheader").filter(has_text=header).first
            handle = cell.get_by_role("button", name="Resize Column").bounding_box()
            box = cell.bounding_box()
            assert handle and box
            x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x - (box["width"] - width), y, steps=6)
            page.mouse.up()
        settle(page)
        shoot(page, "mlflow-trace-list.png")

        # 2. one trace, full screen: span tree, summary badges, session, tags
        page.set_viewport_size({"width": WIDTH, "height": 720})
        page.goto(f"{base}?selectedEvaluationId={job['trace_id']}")
        page.get_by_role("button", name="Full screen").click()
        page.get_by_text("trip_agent").first.wait_for()
        settle(page)
        page.get_by_text(re.compile(r"^\d+ tags$")).first.hover()  # the tags open on hover
        page.wait_for_timeout(700)
        shoot(page, "mlflow-trace-view.png", hover=True)

        # 3. one CHAT_MODEL span per provider, its Tools section open
        spans = [
            ("mlflow-openai-span.png", "chat gpt-4o-mini", 1),  # the streamed answer after the tool call
            ("mlflow-anthropic-span.png", "chat claude-haiku-4-5", 1),  # the turn carrying the tool result
            ("mlflow-gemini-span.png", "generate_content gemini-2.5-flash", 1),  # the call declaring a tool
        ]
        for name, label, nth in spans:
            page.set_viewport_size({"width": WIDTH, "height": 900})
            page.get_by_text(label, exact=True).nth(nth).click()
            settle(page)
            toggle = page.locator("[data-testid=model-trace-explorer-tools-section-toggle]")
            if toggle.count() and toggle.first.get_attribute("aria-expanded") == "false":
                toggle.first.click()
            shoot_span(page, name)

        # 4. the failed call: red in the tree, its exception event
        page.set_viewport_size({"width": WIDTH, "height": 720})
        page.get_by_text("chat gpt-4o-mini", exact=True).nth(2).click()
        settle(page)
        page.get_by_role("tab", name="Events").click()
        settle(page)
        shoot(page, "mlflow-error-span.png")
        browser.close()


# --------------------------------------------------------------------------- main
def browser_python(explicit: str | None) -> str:
    for candidate in (explicit, os.environ.get("TK_PLAYWRIGHT_PYTHON"), str(ROOT / ".venv-ui" / "bin" / "python")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("no Python with playwright: python3 -m venv .venv-ui && .venv-ui/bin/pip install playwright")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--uri", help="a running MLflow server (default: start one)")
    parser.add_argument("--experiment", default="tracekit-demo")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    parser.add_argument("--browser-python", help="a Python with playwright installed")
    parser.add_argument("--capture", help=argparse.SUPPRESS)  # internal: JSON job for the browser half
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.capture:
        capture(json.loads(args.capture), out)
        return 0

    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    sys.path.insert(0, str(ROOT))
    from tests.export.mlflow_server import MlflowServer

    server = None
    uri = args.uri
    if uri is None:
        server = MlflowServer(Path(tempfile.mkdtemp(prefix="tk-mlflow-ui-")))
        server.start()
        server.wait_healthy()
        uri = server.uri
    try:
        job = ship_traces(uri, args.experiment)
        subprocess.run(
            [browser_python(args.browser_python), __file__, "--out", str(out), "--capture", json.dumps(job)],
            check=True,
            timeout=600,
        )
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
