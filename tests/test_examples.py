"""Every script in examples/ runs to completion on its own (against the fake server)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env["TRACEKIT_HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr


def test_demo_prints_the_trace_tree(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env["TRACEKIT_HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "tracekit", "demo", "--no-color"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "traces.db").exists()
    lines = proc.stdout.splitlines()
    expected_spans = (
        "travel_agent",
        "chat gpt-4o-mini",
        "get_weather",
        "chat claude-haiku-4-5",
        "generate_content gemini-2.5-flash",
    )
    for expected in expected_spans:
        assert any(expected in line for line in lines), (expected, proc.stdout)
    # one trace: every span is in the tree under the agent, streamed calls show their time to first token
    assert sum("ttft" in line for line in lines) == 3
    assert "ERROR" not in proc.stdout
