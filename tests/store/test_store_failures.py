"""A store that cannot be written -- garbage, a directory, a full disk, read-only, locked
by another process -- costs the app one line naming the file and the real cause, no
traceback (unless TRACEKIT_DEBUG), and never more than exit_timeout (+1 s) at exit.

Each case runs a small app in a subprocess, as a user would meet it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = """
import tracekit
tracekit.configure(tracking_uri="sqlite:///{db}", exit_timeout={exit_timeout})
for n in range({spans}):
    with tracekit.start_span("work", inputs={{"n": n, "text": "x" * {size}}}):
        pass
print("app done", flush=True)
"""


def run_app(
    db: Path, *, spans: int = 3, size: int = 10, exit_timeout: float = 2, debug: bool = False
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env["TRACEKIT_HOME"] = str(db.parent / "home")
    if debug:
        env["TRACEKIT_DEBUG"] = "1"
    script = APP.format(db=db, spans=spans, size=size, exit_timeout=exit_timeout)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)


def one_line(proc: subprocess.CompletedProcess[str], db: Path, cause: str) -> None:
    assert proc.returncode == 0 and proc.stdout == "app done\n", proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == f"tracekit: could not write 3 span(s) to the local store {db}: {cause}", proc.stderr
    # the exit hook may add the count in words; never a traceback, never a second cause
    assert all(line.startswith("tracekit") for line in lines), proc.stderr
    assert len(lines) <= 2 and "Traceback" not in proc.stderr


def test_garbage_file(tmp_path: Path) -> None:
    db = tmp_path / "traces.db"
    db.write_bytes(os.urandom(64 * 1024))
    one_line(run_app(db), db, "not a tracekit store (the file is not a SQLite database, or is corrupt)")
    debug = run_app(db, debug=True)
    assert "Traceback" in debug.stderr and "file is not a database" in debug.stderr


def test_a_directory(tmp_path: Path) -> None:
    db = tmp_path / "traces.db"
    db.mkdir()
    one_line(run_app(db), db, "it is a directory, not a store file")


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    db = tmp_path / "file" / "traces.db"
    one_line(run_app(db), db, "a parent of the path is a file, not a directory")


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None and sys.platform.startswith("linux")


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 200 KiB tmpfs (root only), unmounted after the test."""
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    if not _can_mount() or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mountpoint)]).returncode:
        pytest.skip("needs root to mount a small tmpfs (the RLIMIT_FSIZE test covers the class without it)")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_full_disk_says_disk_full(small_tmpfs: Path) -> None:
    db = small_tmpfs / "traces.db"
    # ~250 KB of inputs in one batch on a 200 KiB file system
    proc = run_app(db, spans=3, size=80_000)
    one_line(proc, db, "disk full")
    assert "rollback" not in proc.stderr.lower()


def test_file_size_limit_says_so(tmp_path: Path) -> None:
    # the same class without root: the process may not grow a file past 100 KB
    db = tmp_path / "traces.db"
    script = (
        "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
        + APP.format(db=db, spans=3, size=80_000, exit_timeout=2)
    )
    env = {"TRACEKIT_HOME": str(tmp_path / "home"), "PATH": os.environ.get("PATH", "")}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    one_line(proc, db, "file size limit reached")


def test_read_only_store(small_tmpfs: Path) -> None:
    db = small_tmpfs / "traces.db"
    assert run_app(db, spans=1).stderr == ""  # a good store first
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    one_line(run_app(db), db, "not writable (read-only file system)")


def test_locked_by_another_process_exits_within_the_exit_timeout(tmp_path: Path) -> None:
    db = tmp_path / "traces.db"
    assert run_app(db, spans=1).stderr == ""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sqlite3, sys, time
                conn = sqlite3.connect({str(db)!r}, isolation_level=None)
                conn.execute("BEGIN EXCLUSIVE")
                print("locked", flush=True)
                time.sleep(120)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        proc = run_app(db, exit_timeout=2)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 0, proc.stderr
    # a bound, not a benchmark: the store's 30 s busy timeout must not hold the exit
    assert elapsed < 2 + 3 + 2, (elapsed, proc.stderr)  # exit_timeout + 1 s + interpreter start
    lines = proc.stderr.splitlines()
    assert lines[0] == (
        f"tracekit: 3 span(s) not recorded: not written to the local store {db} before tracekit stopped "
        "(the store is locked by another process)"
    ), proc.stderr
    assert "queue full" not in proc.stderr and "Traceback" not in proc.stderr
    assert sqlite3.connect(db).execute("select count(*) from spans").fetchone()[0] == 1
