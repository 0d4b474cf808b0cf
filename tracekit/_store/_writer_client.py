"""The app's side of the store writer process (``store_writer="process"``).

The export thread reads each span into plain builtins (``_rows.plain_of``: a few µs),
pickles the batch (C code) and writes it to the writer's pipe (the GIL released in the
write); the writer process (``_writer``) encodes and commits it and answers. The
export thread waits for that answer (GIL-free, in a read), so a batch counts as
delivered only once it is committed, exactly as when it is written in process.

Falls back to writing in this process, never losing or doubling a span:

- while the writer starts (it is started lazily, from the export thread only, and
  the batches before its handshake are written here);
- when it cannot start (``sys.executable`` is not a Python -- uWSGI, an embedded
  interpreter --, the start-up fails, no handshake within ``START_TIMEOUT_S``);
- when it dies or stops answering: the batch it did not acknowledge is written here
  (spans are keyed by trace and span id and written with ``INSERT OR REPLACE``, so a
  batch the writer committed before dying is not doubled), and so is every later one.

Fork-safe: a forked child closes its copies of the parent's pipes at once (so the
parent's writer still sees end of file when the parent exits) and starts its own
writer, or falls back.
"""

from __future__ import annotations

import os
import pickle
import re
import select
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracekit import _attributes as attr
from tracekit import _errors, _redact
from tracekit._store._rows import PlainSpan, plain_of
from tracekit._store._sqlite import BUSY_TIMEOUT_S
from tracekit._store._writer import ANSWER, PROTOCOL, REQUEST, read_exact, write_all

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

#: how long the writer may take to start (an interpreter and ``import tracekit`` on a
#: loaded machine) before the exporter gives up on it and writes in process
START_TIMEOUT_S = 20.0
#: how long an answer may take: the writer waits up to the store's busy timeout for
#: another process's lock, then answers with the error
ANSWER_TIMEOUT_S = BUSY_TIMEOUT_S + 30.0
#: the thread the pipeline exports on: the only one that starts a writer
EXPORT_THREAD = "tracekit-export"
_PYTHON_NAME = re.compile(r"^(python|pypy)[0-9.]*[a-z]?(\.exe)?$", re.IGNORECASE)
_F_SETPIPE_SZ = 1031  # Linux: a larger pipe takes a batch in fewer wake-ups

_NONE, _STARTING, _READY, _OFF = "none", "starting", "ready", "off"
#: for the test suite's "writer on" run: start the writer at the first batch and wait
#: for its handshake, so that every batch goes through it (not a user setting)
_EAGER = os.environ.get("TK_STORE_WRITER_EAGER", "") == "1"


class WriterGone(Exception):
    """The writer process died or stopped answering."""


def python_executable() -> str | None:
    """``sys.executable`` when it is a Python interpreter tracekit can run ``-m`` with."""
    exe = sys.executable
    if not exe or not _PYTHON_NAME.match(os.path.basename(exe)) or not os.access(exe, os.X_OK):
        return None
    return exe


class WriterClient:
    """One writer process per store, per process; used under a lock by one thread at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._state = _NONE
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid = os.getpid()
        self._seq = 0
        self._started = 0.0
        self._hello = b""
        self._batches = 0  # batches seen on the export thread before the writer starts
        #: time.monotonic() since which a batch waits for the writer's answer, if one does
        self.waiting_since: float | None = None
        #: why the writer is not used (after a fallback), for ``tracekit status`` and tests
        self.off_reason: str | None = None
        _CLIENTS.add(self)

    @property
    def writer_pid(self) -> int | None:
        """The writer process's pid once it answered its handshake."""
        proc = self._proc
        return proc.pid if proc is not None and self._state == _READY else None

    @property
    def ready(self) -> bool:
        return self._state == _READY

    # --- writing ---------------------------------------------------------------------
    def write(self, spans: Sequence[ReadableSpan]) -> bool:
        """Have the writer commit ``spans``: True once it did. False: the caller writes
        them in process (the writer is starting, off, or died with them unacknowledged).
        Raises the store's error that the writer met (locked, disk full, ...)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child that kept this object
                self._forget_after_fork()
            if self._state == _NONE:
                # the second batch on the export thread: a process that exports once (a
                # short script, at exit) never pays for a second interpreter
                if threading.current_thread().name == EXPORT_THREAD:
                    self._batches += 1
                    if self._batches >= 2 or _EAGER:
                        self._start()
                if not _EAGER or self._state != _STARTING:
                    return False
            if self._state == _STARTING and not self._poll_start(wait=_EAGER):
                return False
            if self._state != _READY:
                return False
            try:
                payload = pickle.dumps(_plain_batch(spans), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # a value pickle refuses (an odd SDK attribute type): this batch in process
                return False
            try:
                error, places = self._send(payload)
            except WriterGone as gone:
                self._give_up(str(gone))
                return False
        for place in places:
            _report_from_writer(place)
        if error is not None:
            raise _exception_of(error)
        return True

    def _send(self, payload: bytes) -> tuple[Any, list[str]]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        self._seq += 1
        self.waiting_since = time.monotonic()
        try:
            try:
                write_all(proc.stdin.fileno(), REQUEST.pack(len(payload), self._seq) + payload)
            except OSError as exc:
                raise WriterGone(f"the store writer process is gone ({exc})") from None
            out = proc.stdout.fileno()
            readable, _, _ = select.select([out], [], [], ANSWER_TIMEOUT_S)
            if not readable:
                raise WriterGone(f"the store writer process did not answer within {ANSWER_TIMEOUT_S:.0f} s")
            header = read_exact(out, ANSWER.size)
            if len(header) < ANSWER.size:
                raise WriterGone("the store writer process exited")
            seq, length = ANSWER.unpack(header)
            body = read_exact(out, length)
            if seq != self._seq or len(body) < length:
                raise WriterGone("the store writer process answered out of turn")
            error, places = pickle.loads(body)
            return error, list(places)
        finally:
            self.waiting_since = None

    # --- starting and stopping ---------------------------------------------------------
    def _start(self) -> None:
        exe = python_executable()
        if exe is None:
            self._off(f"sys.executable ({sys.executable!r}) is not a Python interpreter")
            return
        # the app's environment less its secrets (API keys, tokens): the writer needs none
        env = {k: v for k, v in os.environ.items() if not _redact.is_secret_name(k)}
        env["TRACEKIT_DISABLED"] = "1"  # the writer traces nothing itself
        # the child imports the tracekit this process runs: from its site-packages as
        # this interpreter does, else (a checkout on sys.path) from its directory, put
        # first -- and never from the app's working directory, which `-m` would search
        root = str(Path(__file__).resolve().parents[2])
        cwd = "/"
        if root not in _site_dirs():
            env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            cwd = root
        try:
            self._proc = subprocess.Popen(
                [exe, "-m", "tracekit._store._writer", os.path.abspath(self.path)],
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # never the app's stderr: a writer still busy after the app exited must
                # not keep a pipe the app's parent reads open
                stderr=None if _errors.debug() else subprocess.DEVNULL,
                bufsize=0,
                env=env,
                close_fds=True,
                start_new_session=True,
            )
        except Exception as exc:
            self._off(f"the store writer process could not start ({exc})")
            return
        if self._proc.stdin is not None and sys.platform.startswith("linux"):
            try:
                import fcntl

                fcntl.fcntl(self._proc.stdin.fileno(), _F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass  # the system's pipe size limit: the default 64 KiB works too
        self._state = _STARTING
        self._started = time.monotonic()

    def _poll_start(self, wait: bool = False) -> bool:
        """True once the writer said it is ready (``wait``: wait for it); gives up after
        ``START_TIMEOUT_S``."""
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        out = proc.stdout.fileno()
        while b"\n" not in self._hello:
            left = START_TIMEOUT_S - (time.monotonic() - self._started)
            readable, _, _ = select.select([out], [], [], max(left, 0) if wait else 0)
            if not readable:
                if time.monotonic() - self._started > START_TIMEOUT_S:
                    self._give_up(f"the store writer process did not start within {START_TIMEOUT_S:.0f} s")
                return False
            chunk = os.read(out, 256)
            if not chunk:
                self._give_up("the store writer process exited at start")
                return False
            self._hello += chunk
        line = self._hello.split(b"\n", 1)[0].decode("utf-8", "replace")
        parts = line.split()
        if len(parts) == 3 and parts[0] == "tracekit-writer" and parts[1] == str(PROTOCOL):
            self._state = _READY
            return True
        self._give_up(f"the store writer process could not start: {line[:300]}")
        return False

    def _give_up(self, why: str) -> None:
        """Stop the writer (it may be stuck) and write in process from now on."""
        proc = self._proc
        if proc is not None:
            try:
                proc.kill()
            except OSError:
                pass
            _close_pipes(proc)
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                _RUNNING.append(proc)
        self._proc = None
        self._off(why)

    def _off(self, why: str) -> None:
        self._state = _OFF
        self.off_reason = why
        _errors.logger.debug("tracekit: the local store is written in this process: %s", why)

    def close(self, timeout: float = 0.2) -> None:
        """End the writer's input: it commits what it received and exits. Waits up to
        ``timeout`` seconds for it (a batch still being written goes on without us)."""
        if not self._lock.acquire(timeout=timeout):
            return  # a batch waits for an answer (a locked store): the app's exit closes the pipe
        try:
            proc = self._proc
            if self._pid != os.getpid() or proc is None:
                return
            if self._state != _READY:  # still starting: it received nothing, nothing to wait for
                self._give_up("closed")
                return
            self._proc = None
            self._state, self.off_reason = _OFF, "closed"
            _close_pipes(proc)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _RUNNING.append(proc)  # still writing: reaped later, never killed
        finally:
            self._lock.release()

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent's writer is the parent's (its pipes were closed
        by the fork hook); this process starts its own."""
        if self._proc is not None:
            _ABANDONED.append(self._proc)
        self._proc = None
        if not (self._state == _OFF and self.off_reason is not None and "not a Python" in self.off_reason):
            self._state, self.off_reason = _NONE, None  # a fresh start, even if the parent's writer died
        self._hello = b""
        self._seq = 0
        self.waiting_since = None
        self._pid = os.getpid()


def _site_dirs() -> set[str]:
    import site

    dirs = list(getattr(site, "getsitepackages", list)())
    user = getattr(site, "getusersitepackages", None)
    if user is not None:
        dirs.append(user())
    return {os.path.realpath(d) for d in dirs}


def _plain_batch(spans: Sequence[ReadableSpan]) -> list[PlainSpan]:
    resources: dict[int, tuple[Any, dict[str, Any]]] = {}
    plains: list[PlainSpan] = []
    for span in spans:
        try:
            plains.append(plain_of(span, resources))
        except Exception:
            # as in process: the span is stored with what could be read of it
            _errors.report("store.encode_span")
            plains.append(_unreadable(span))
    return plains


def _unreadable(span: Any) -> PlainSpan:
    from tracekit._model import TRACE_ID_PREFIX

    ctx = span.context
    return (
        f"{TRACE_ID_PREFIX}{ctx.trace_id:032x}",
        f"{ctx.span_id:016x}",
        f"{span.parent.span_id:016x}" if span.parent is not None else None,
        str(span.name),
        span.start_time or 0,
        span.end_time,
        str(span.status.status_code.name),
        None,
        {attr.UNSTORABLE: "<span attributes could not be encoded>"},
        None,
        {},
    )


def _exception_of(error: tuple[str, int | None, str, str]) -> Exception:
    """The writer's store error as an exception the exporter reports as it does its own."""
    import sqlite3

    name, errno, message, trace = error
    exc: Exception
    if errno is not None:
        exc = OSError(errno, message)
    elif isinstance(getattr(sqlite3, name, None), type) and issubclass(getattr(sqlite3, name), sqlite3.Error):
        exc = getattr(sqlite3, name)(message)
    else:
        exc = RuntimeError(f"{name}: {message}")
    if trace and _errors.debug():
        _errors.logger.debug("tracekit: the store writer process's traceback:\n%s", trace)
    return exc


def _report_from_writer(place: str) -> None:
    try:
        raise RuntimeError(f"internal error in the store writer process at {place}")
    except RuntimeError:
        _errors.report(place)


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()  # unbuffered: nothing is flushed, the descriptor is closed
            except OSError:
                pass


_CLIENTS: weakref.WeakSet[WriterClient] = weakref.WeakSet()
#: a parent's writer processes seen in a forked child: never waited for nor killed there
_ABANDONED: list[subprocess.Popen[bytes]] = []
#: writers still committing when their client closed: kept so they are reaped, not killed
_RUNNING: list[subprocess.Popen[bytes]] = []


def _after_fork_in_child() -> None:
    # the child must not hold the parent's pipes open: the parent's writer ends on end
    # of file when the parent exits, and a child writing there would interleave frames
    for client in list(_CLIENTS):
        client._lock = threading.Lock()
        proc = client._proc
        if proc is not None:
            _close_pipes(proc)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
