"""A wrong store is the user's mistake: one line naming it and what is wrong, never
"internal error". Run as real subprocesses, as a user would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def tracekit(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEKIT_")}
    env.update(TRACEKIT_HOME=str(home), PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run(
        [sys.executable, "-m", "tracekit", *argv], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "internal error" not in proc.stderr
    return proc.stderr.strip()


@pytest.mark.parametrize("command", [["traces", "list"], ["traces", "show", "0af7"], ["traces", "prune", "--keep", "1"]])
def test_garbage_file(tmp_path: Path, command: list[str]) -> None:
    bad = tmp_path / "garbage.db"
    bad.write_bytes(os.urandom(4096))
    proc = tracekit(tmp_path, "--store", str(bad), *command)
    assert proc.returncode == 1
    assert one_line(proc) == f"tracekit: error: {bad} is not a trace store: not an SQLite database file"
    assert len(bad.read_bytes()) == 4096  # left as it was


def test_directory(tmp_path: Path) -> None:
    proc = tracekit(tmp_path, "--store", str(tmp_path), "traces", "list")
    assert proc.returncode == 1
    assert one_line(proc) == (
        f"tracekit: error: {tmp_path} is a directory, not a trace store file"
        f" (give the .db file inside, e.g. {tmp_path / 'traces.db'})"
    )


def test_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    proc = tracekit(tmp_path, "--store", f"sqlite:///{missing}", "traces", "show", "0af7651916cd43dd")
    assert proc.returncode == 1
    assert one_line(proc) == f"tracekit: error: no traces yet at {missing} — run an instrumented app or `tracekit demo`"
    assert not missing.exists()


@pytest.mark.parametrize("url", ["http://localhost:5000", "https://mlflow.example.com/", "postgresql://db/x"])
def test_url(tmp_path: Path, url: str) -> None:
    proc = tracekit(tmp_path, "--store", url, "traces", "list")
    assert proc.returncode == 2
    assert one_line(proc) == (
        f"tracekit: error: --store {url!r} is a URL, but the CLI reads a local trace store file"
        " (a path or sqlite:///PATH); traces sent to a server are read in its own UI"
    )


def test_other_sqlite_database_is_not_touched(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    proc = tracekit(tmp_path, "--store", str(other), "traces", "list")
    assert proc.returncode == 1
    assert one_line(proc) == (
        f"tracekit: error: {other} is an SQLite database, but not a tracekit trace store (it has no traces table)"
    )
    with sqlite3.connect(other) as conn:  # no tracekit tables were created in it
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["users"]


def test_unreadable(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    locked = tmp_path / "locked.db"
    locked.write_bytes(b"")
    locked.chmod(0)
    proc = tracekit(tmp_path, "--store", str(locked), "traces", "list")
    assert proc.returncode == 1
    assert one_line(proc) == f"tracekit: error: cannot read the trace store {locked}: Permission denied"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["traces", "prune"], "tracekit: error: traces prune needs --older-than AGE and/or --keep N"),
        (["traces", "prune", "--older-than", "soon"], "tracekit: error: bad --older-than: 'soon' is neither"),
        (["traces", "list", "--since", "yesterday"], "tracekit: error: bad --since: 'yesterday' is neither"),
        (
            ["traces", "list", "--tag", "novalue"],
            "tracekit: error: argument --tag: expected KEY=VALUE, got 'novalue' (see `tracekit traces list --help`)",
        ),
        (["traces", "list", "--limit", "0"], "tracekit: error: argument --limit: must be at least 1"),
        (["traces", "list", "--status", "MAYBE"], "tracekit: error: argument --status: invalid choice: 'MAYBE'"),
        (["traces", "prune", "--keep", "-1"], "tracekit: error: argument --keep: must be at least 0"),
        (["traces", "nonsense"], "tracekit: error: argument COMMAND: invalid choice: 'nonsense'"),
    ],
)
def test_usage_mistakes(tmp_path: Path, argv: list[str], message: str) -> None:
    db = tmp_path / "t.db"
    sqlite3.connect(db).close()
    proc = tracekit(tmp_path, "--store", str(db), *argv)
    assert proc.returncode == 2
    assert one_line(proc).startswith(message)


def test_a_store_damaged_past_its_header(tmp_path: Path) -> None:
    # a real SQLite header, then garbage: SQLite itself finds the damage while reading
    db = tmp_path / "damaged.db"
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    proc = tracekit(tmp_path, "--store", str(db), "traces", "list")
    assert proc.returncode == 1
    line = one_line(proc)
    assert line.startswith("tracekit: error: ") and str(db) in line
