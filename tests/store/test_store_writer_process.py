"""The store writer process (``store_writer="process"``): what the app hands over is
committed exactly once, whatever happens to the writer or to the app.

Apps run in subprocesses, as a user meets them; the writer starts at the first batch
and is waited for (``TK_STORE_WRITER_EAGER=1``), so that every batch after it goes
through it. Spans are read back from the store file."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the writer process is POSIX-only")

PRELUDE = """
import os, signal, sys, tracekit
from tracekit import _tracer
tracekit.configure(tracking_uri="sqlite:///{db}", exit_timeout=2)

def spans(first, count):
    for n in range(first, first + count):
        with tracekit.start_span(f"work-{{n}}", inputs={{"n": n}}):
            pass

@tracekit.trace(name="work-secret")
def with_secret(question, api_key):
    return "ok"

def writer():
    return _tracer.current_pipeline().exporters[0].writer
"""


def run(tmp_path: Path, body: str, *, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    db = tmp_path / "traces.db"
    script = PRELUDE.format(db=db) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, env=app_env(tmp_path, env)
    )


def app_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_", "TK_"))}
    env.update(TRACEKIT_HOME=str(tmp_path / "home"), TRACEKIT_STORE_WRITER="process", TK_STORE_WRITER_EAGER="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def stored(db: Path) -> list[str]:
    """The stored span names, one per row (a doubled span would show twice)."""
    with sqlite3.connect(db) as conn:
        return sorted(r[0] for r in conn.execute("SELECT name FROM spans"))


def names(first: int, count: int) -> list[str]:
    return sorted(f"work-{n}" for n in range(first, first + count))


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie waits for its parent: it is gone too
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def wait_until(check: object, what: str) -> None:
    """Poll ``check()`` for up to 20 s (a bound for a busy machine, not a timing assert)."""
    for _ in range(400):
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not within 20 s: {what}")


def test_batches_go_through_the_writer_and_it_exits_with_the_app(tmp_path: Path) -> None:
    proc = run(
        tmp_path,
        """
        spans(0, 5)
        with_secret("hi", api_key="sk-secret-123")
        r = tracekit.flush(timeout=20)
        print(writer().writer_pid, r.delivered, r.failed, r.dropped, flush=True)
        """,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    pid, *counts = proc.stdout.split()
    assert pid != "None" and counts == ["6", "0", "0"], proc.stdout
    assert stored(tmp_path / "traces.db") == sorted([*names(0, 5), "work-secret"])
    with sqlite3.connect(tmp_path / "traces.db") as conn:
        sql = "SELECT json_extract(attributes, '$.\"mlflow.spanInputs\"') FROM spans WHERE name = 'work-secret'"
        [inputs] = conn.execute(sql).fetchone()
    assert inputs == '{"question":"hi","api_key":"[REDACTED]"}', inputs
    wait_until(lambda: gone(int(pid)), "the writer exits after the app")
    # nothing secret anywhere: the same redaction as in process
    raw = (tmp_path / "traces.db").read_bytes()
    assert b"sk-secret-123" not in raw


def test_writer_killed_mid_run_falls_back_nothing_lost_nor_doubled(tmp_path: Path) -> None:
    proc = run(
        tmp_path,
        """
        spans(0, 10)
        assert tracekit.flush(timeout=20).delivered == 10
        w = writer()
        pid = w.writer_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)  # reaped here, so that the next batch meets a dead pipe
        spans(10, 10)  # this batch is not acknowledged: written in process
        r1 = tracekit.flush(timeout=20)
        spans(20, 10)  # and the next ones too
        r2 = tracekit.flush(timeout=20)
        print(r1.delivered, r2.delivered, r2.failed, r2.dropped, w.writer_pid, bool(w.off_reason), flush=True)
        """,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.split() == ["20", "30", "0", "0", "None", "True"], proc.stdout
    assert stored(tmp_path / "traces.db") == names(0, 30)


def test_a_batch_the_writer_committed_is_not_doubled_when_written_again(tmp_path: Path) -> None:
    # the fallback's premise: a batch the writer committed but did not acknowledge
    # (it died in between) is written again in process, and stays one row per span
    proc = run(
        tmp_path,
        """
        captured = []
        pipeline = _tracer.ensure_pipeline()
        exporter = pipeline.exporters[0]
        original = exporter.export
        def keep(batch):
            captured.extend(batch)
            return original(batch)
        exporter.export = keep
        spans(0, 4)
        assert tracekit.flush(timeout=20).delivered == 4 and exporter.writer.writer_pid
        exporter.store.write_spans(captured)  # the same spans again, in process
        print(len(captured), flush=True)
        """,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.split() == ["4"]
    assert stored(tmp_path / "traces.db") == names(0, 4)
    with sqlite3.connect(tmp_path / "traces.db") as conn:
        assert conn.execute("SELECT count(*), sum(span_count) FROM traces").fetchone() == (4, 4)


def test_app_killed_after_flush_keeps_its_spans(tmp_path: Path) -> None:
    proc = run(
        tmp_path,
        """
        spans(0, 7)
        assert tracekit.flush(timeout=20).delivered == 7
        print(writer().writer_pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert stored(tmp_path / "traces.db") == names(0, 7)
    wait_until(lambda: gone(int(proc.stdout.split()[0])), "the writer exits on end of file")


def test_a_forked_child_starts_its_own_writer_and_leaves_the_parents_alone(tmp_path: Path) -> None:
    proc = run(
        tmp_path,
        """
        spans(0, 3)
        assert tracekit.flush(timeout=20).delivered == 3
        parent_writer = writer().writer_pid
        pid = os.fork()
        if pid == 0:
            spans(100, 3)
            r = tracekit.flush(timeout=20)
            mine = writer().writer_pid
            print("child", r.delivered, mine is not None and mine != parent_writer, flush=True)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        spans(3, 3)
        r = tracekit.flush(timeout=20)
        print("parent", r.delivered, writer().writer_pid == parent_writer, flush=True)
        """,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert sorted(proc.stdout.splitlines()) == ["child 3 True", "parent 6 True"], proc.stdout
    assert stored(tmp_path / "traces.db") == sorted(names(0, 6) + names(100, 3))


@pytest.mark.parametrize("executable", ["uwsgi", "python3"])
def test_unusable_executable_falls_back_to_writing_in_process(tmp_path: Path, executable: str) -> None:
    # "uwsgi": sys.executable is not a Python (never run: it could start a server);
    # "python3": a Python-named program that fails at start
    fake = tmp_path / "bin" / executable
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'no such module' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    proc = run(
        tmp_path,
        f"""
        sys.executable = {str(fake)!r}
        spans(0, 4)
        r = tracekit.flush(timeout=20)
        w = writer()
        print(r.delivered, r.failed, w.writer_pid, w.off_reason, flush=True)
        """,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    delivered, failed, pid, *why = proc.stdout.split()
    assert (delivered, failed, pid) == ("4", "0", "None"), proc.stdout
    expected = "is not a Python interpreter" if executable == "uwsgi" else "exited at start"
    assert expected in " ".join(why), proc.stdout
    assert stored(tmp_path / "traces.db") == names(0, 4)


def test_locked_store_at_exit_is_bounded_and_the_writer_keeps_what_it_received(tmp_path: Path) -> None:
    db = tmp_path / "traces.db"
    app = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PRELUDE.format(db=db)
            + textwrap.dedent(
                """
                spans(0, 1)
                assert tracekit.flush(timeout=20).delivered == 1
                print(writer().writer_pid, flush=True)
                sys.stdin.readline()  # the test locks the store meanwhile
                spans(1, 3)
                print("app done", flush=True)
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=app_env(tmp_path),
    )
    holder: subprocess.Popen[str] | None = None
    try:
        assert app.stdout is not None and app.stdin is not None
        first = app.stdout.readline()
        if not first.strip().isdigit():
            raise AssertionError(first + app.communicate(timeout=30)[1])
        writer_pid = int(first)
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sqlite3, time\nconn = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
                "conn.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(120)\n",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        out, err = app.communicate("go\n", timeout=60)
        elapsed = time.monotonic() - started
    finally:
        if holder is not None:
            holder.kill()
            holder.communicate()
        if app.returncode is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0 and out == "app done\n", err
    # a bound, not a benchmark: the store's 30 s busy timeout must not hold the exit
    assert elapsed < 2 + 3 + 2, (elapsed, err)
    lines = err.splitlines()
    assert lines[0] == (
        f"tracekit: 3 span(s) not recorded: not written to the local store {db} before tracekit stopped "
        "(the store writer process had not confirmed them: is the store locked by another process?"
        " It goes on writing them after the app exits)"
    ), err
    assert "Traceback" not in err
    # the lock is gone: the writer commits what it received, then exits
    wait_until(lambda: len(stored(db)) == 4, "the writer commits the batch it received")
    assert stored(db) == names(0, 4)
    wait_until(lambda: gone(writer_pid), "the writer exits")
