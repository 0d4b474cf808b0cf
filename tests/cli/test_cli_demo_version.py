"""``tracekit --version``, ``tracekit demo --store``, and misuse of ``get_trace``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tracekit
from tracekit._cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"tracekit {tracekit.__version__}\n"


def test_demo_writes_where_store_says_and_prints_commands_that_work(tmp_path: Path) -> None:
    home, store = tmp_path / "home", tmp_path / "elsewhere" / "mine.db"
    store.parent.mkdir()
    # no virtualenv on PATH: the follow-up commands must still work as printed
    env = {"PATH": "/usr/bin:/bin", "TRACEKIT_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "tracekit", "demo", "--store", str(store), "--no-color"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert store.exists() and not (home / "traces.db").exists()
    assert "built-in fake server" in proc.stdout
    commands = [line.strip() for line in proc.stdout.splitlines() if line.startswith("  ") and " traces " in line]
    assert len(commands) == 3
    for command in commands:
        run = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, (command, run.stderr)
        assert "travel_agent" in run.stdout
    assert "--chat" in commands[1]


def test_get_trace_misuse_says_what_is_expected() -> None:
    with pytest.raises(TypeError, match="get_last_trace_id\\(\\) is None until a trace has been recorded"):
        tracekit.get_trace(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected tr-<32 hex> or <32 hex>"):
        tracekit.get_trace("tr-nope")
    assert tracekit.get_trace("tr-" + "0" * 31 + "1") is None  # a well-formed id that is not there


def test_version_needs_no_store(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "TRACEKIT_HOME": str(tmp_path / "nothing")}
    proc = subprocess.run([sys.executable, "-m", "tracekit", "--version"], env=env, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout.strip()) == (0, f"tracekit {tracekit.__version__}")
