"""Screenshots of a tracekit trace in the real MLflow UI, taken by headless Chromium.

Starts ``mlflow server`` (SQLite, 127.0.0.1) unless ``--uri`` names a running one,
ships an agent trace (OpenAI chat with tools, a TOOL span, an Anthropic stream, a
Gemini call, a failing parser) through tracekit, and writes PNGs to ``docs/img/``:

* ``mlflow-trace-list.png``: the experiment's trace list (name, previews, tokens, session/user, tags)
* ``mlflow-trace-view.png``: the trace view with the span tree and the summary
* ``mlflow-chat-span.png``: the OpenAI span: chat message cards and the tools section

Known gap: in mlflow 3.17.2 the UI opens with its "MLflow Assistant" side panel
and a "Detect Issues" popover, which ``--screenshot`` cannot dismiss; they cover
the trace drawer. The next step is to drive Chromium over the DevTools protocol
(click "Got it", close the assistant, wait for the drawer) before capturing; the
PNGs are therefore not committed yet.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the mlflow CLI
(``$TK_MLFLOW_BIN`` or ``.venv-mlflow/bin/mlflow``).

    python scripts/mlflow_ui_screenshots.py [--uri http://127.0.0.1:5000] [--out docs/img]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

import tracekit  # noqa: E402
from tests.export.llm_spans import nested_trace  # noqa: E402
from tests.export.mlflow_server import MlflowServer  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def shoot(url: str, out: Path, size: str = "1600,1000", budget_ms: int = 20000) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={size}",
                f"--virtual-time-budget={budget_ms}",
                f"--screenshot={out}",
                url,
            ],
            check=True,
            timeout=120,
            capture_output=True,
        )
    print(f"wrote {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="a running MLflow server (default: start one)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = None
    uri = args.uri
    if uri is None:
        server = MlflowServer(Path(tempfile.mkdtemp(prefix="tk-mlflow-ui-")))
        server.start()
        server.wait_healthy()
        uri = server.uri
    try:
        os.environ["TRACEKIT_HOME"] = tempfile.mkdtemp(prefix="tk-home-")
        tracekit.set_tracking_uri(uri)
        tracekit.set_experiment("tracekit-demo")
        for _ in range(2):
            nested_trace()
        trace_id = nested_trace()
        result = tracekit.flush(timeout=60)
        assert result.ok, result
        exp = requests.get(
            f"{uri}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "tracekit-demo"}, timeout=30
        ).json()["experiment"]["experiment_id"]
        base = f"{uri}/#/experiments/{exp}"
        shoot(f"{base}/traces", out / "mlflow-trace-list.png")
        shoot(f"{base}/traces?selectedEvaluationId={trace_id}", out / "mlflow-trace-view.png")
        span = tracekit.get_trace(trace_id)
        openai = span.get_span("openai.chat.completions.create") if span else None
        if openai is not None:
            shoot(
                f"{base}/traces?selectedEvaluationId={trace_id}&selectedSpanId={openai.span_id}",
                out / "mlflow-chat-span.png",
            )
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
