"""``tracekit status``: the local store, the last configured app process, ``--check`` of
the store; run as subprocesses, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tracekit._store import SQLiteSpanExporter


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env.update(TRACEKIT_HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path), **extra)
    return env


def tracekit(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracekit", *argv], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_store_and_the_app_configured_in_code(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = tmp_path / "app" / "traces.db"
    app = textwrap.dedent(
        f"""
        import tracekit
        tracekit.configure(tracking_uri="sqlite:///{store}", service_name="billing")
        with tracekit.start_span("one"):
            pass
        tracekit.flush()
        """
    )
    ran = subprocess.run([sys.executable, "-c", app], env=env_for(home), capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    proc = tracekit(env_for(home), "status", "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    app_process = status["app_process"]
    assert app_process["running"] is False and app_process["program"] == "-c"
    assert app_process["settings"]["tracking_uri"] == f"sqlite:///{store}"
    assert app_process["settings"]["service_name"] == "billing"
    # this shell's environment names the default store; the app wrote elsewhere
    assert status["tracking_uri"] == f"sqlite:///{home / 'traces.db'}"
    assert status["store"] == {
        "path": str(home / "traces.db"),
        "exists": False,
        "traces": None,
        "bytes": None,
        "last_write_error": None,
    }
    text = tracekit(env_for(home), "status").stdout
    assert "(exited) -c, configured " in text and f": sqlite:///{store}\n" in text
    assert f"store:        {home / 'traces.db'} (not created yet)\n" in text
    shown = tracekit(env_for(home), "--store", str(store), "status").stdout
    assert f"store:        {store}: 1 trace(s), " in shown


def test_last_write_error_is_shown(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all, just text" * 100)
    from store_probe import one_span

    assert SQLiteSpanExporter(bad).export([one_span()]).name == "FAILURE"
    env = env_for(home, TRACEKIT_TRACKING_URI=f"sqlite:///{bad}")
    proc = tracekit(env, "status")
    assert proc.returncode == 0, proc.stderr
    assert f"store:        {bad}: {bad} is not a trace store: not an SQLite database file\n" in proc.stdout
    assert "  write error: " in proc.stdout
    assert "could not write 1 span(s): not a tracekit store (the file is not a SQLite database, or is corrupt)" in proc.stdout
    check = tracekit(env, "status", "--check")
    assert check.returncode == 1
    assert check.stderr == f"tracekit: error: status --check: {bad} is not a trace store: not an SQLite database file\n"


def test_check_of_a_fresh_local_store(tmp_path: Path) -> None:
    proc = tracekit(env_for(tmp_path / "home"), "status", "--check")
    assert (proc.returncode, proc.stderr) == (0, "")
    path = tmp_path / "home" / "traces.db"
    assert f"check:        ok: the trace store {path} does not exist yet: the first trace will create it\n" in proc.stdout
