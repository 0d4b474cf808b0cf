"""``tracekit traces show --chat``: the demo's real OpenAI, Anthropic and Gemini calls
read as a conversation, at several widths, with and without colour."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_traces import check_golden


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo's trace (real SDK clients against the fake server), recorded once."""
    home = tmp_path_factory.mktemp("chat-home")
    env = {"PATH": "/usr/bin:/bin", "TRACEKIT_HOME": str(home), "TZ": "UTC"}
    subprocess.run([sys.executable, "-m", "tracekit", "demo", "--no-color"], env=env, check=True, capture_output=True)
    listed = subprocess.run(
        [sys.executable, "-m", "tracekit", "traces", "list", "--json"], env=env, check=True, capture_output=True, text=True
    )
    return home, json.loads(listed.stdout)[0]["trace_id"]


def _chat(demo_store: tuple[Path, str], columns: int, *flags: str) -> str:
    home, trace_id = demo_store
    env = {"PATH": "/usr/bin:/bin", "TRACEKIT_HOME": str(home), "TZ": "UTC", "COLUMNS": str(columns)}
    proc = subprocess.run(
        [sys.executable, "-m", "tracekit", "traces", "show", trace_id, "--chat", *flags],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    header, second, *rest = proc.stdout.splitlines(keepends=True)
    assert trace_id in header and "travel_agent" in header
    assert "session demo-session" in second
    return "".join(rest)  # the header holds the run's own id and time


@pytest.mark.parametrize("columns", [100, 60, 30])
def test_chat_view_at_each_width(demo_store: tuple[Path, str], columns: int) -> None:
    text = _chat(demo_store, columns, "--no-color")
    assert all(len(line) <= max(columns, 60) for line in text.splitlines())  # never under 60 columns
    check_golden(f"chat_{max(columns, 60)}.txt", text)


def test_chat_view_in_colour(demo_store: tuple[Path, str]) -> None:
    text = _chat(demo_store, 100, "--color")
    assert "\x1b[36muser      \x1b[0m" in text and "\x1b[32massistant \x1b[0m" in text
    check_golden("chat_color.txt", text)


def test_chat_view_of_a_trace_without_model_calls(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TRACEKIT_HOME": str(tmp_path), "TZ": "UTC"}
    code = "import tracekit\n@tracekit.trace\ndef f(x): return x\nf(1)\nprint(tracekit.get_last_trace_id())"
    trace_id = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.strip()
    proc = subprocess.run(
        [sys.executable, "-m", "tracekit", "traces", "show", trace_id, "--chat", "--no-color"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[-1] == "no model calls with recorded messages in this trace"
