"""The proxy under test runs as a real subprocess (``python -m tracekit proxy``) in front
of the fake LLM server; its spans are read back from the local store it writes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tracekit._model import SpanData
from tracekit._store import SQLiteStore
from tracekit.testing import FakeLLMServer

ROOT = Path(__file__).resolve().parents[2]

try:
    import aiohttp  # noqa: F401 - the proxy's one dependency (tracekit[proxy], in the dev extra)
except ImportError:
    if os.environ.get("CI") == "true":
        raise  # in CI a missing extra is a broken set-up, not a reason to skip
    # locally: leave the proxy tests out (pip install -e '.[dev]' brings aiohttp)
    collect_ignore_glob = ["test_*.py"]
_LISTENING = re.compile(r"tracekit proxy: listening on (http://\S+) -> (\S+)")


class ProxyProcess:
    """``tracekit proxy`` in a subprocess; ``url`` is where it listens."""

    def __init__(self, upstream: str, store: Path, args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.store = store
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
        full_env.update(
            {
                "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                "TRACEKIT_TRACKING_URI": f"sqlite:///{store}",
                "TRACEKIT_HOME": str(store.parent / "proxy-home"),
                "NO_PROXY": "127.0.0.1,localhost",
                **(env or {}),
            }
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracekit", "proxy", "--upstream", upstream, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline()
        match = _LISTENING.search(self.first_line)
        if match is None:
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise AssertionError(f"no listening line: {self.first_line!r}\n{err}")
        self.url = match.group(1)
        self.upstream = match.group(2)
        self.stdout = ""
        self.stderr = ""
        self._err_lines: list[str] = []
        # drain stderr as it comes: a full pipe would block the proxy's log writes
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._err_lines.append(line)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop it (spans are flushed on the way out); returns its exit code."""
        if self.process.returncode is not None:
            return self.process.returncode  # stopped already
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait()

    def wait(self, timeout: float = 120) -> int:
        """Wait for it to exit by itself (``-- COMMAND`` mode); returns its exit code."""
        self.process.wait(timeout=timeout)
        assert self.process.stdout is not None
        self.stdout += self.process.stdout.read()
        self._reader.join(timeout=10)  # stderr is read by the reader thread alone
        self.stderr = "".join(self._err_lines)
        return self.process.returncode

    def assert_no_internal_error(self) -> None:
        """The suite's strict rule, for the subprocess: tracekit logged no internal error
        (``tracekit internal error in <place>``) while it ran. Call after stopping."""
        assert "tracekit internal error" not in self.stderr, self.stderr

    def wait_for_spans(self, count: int, where: Any = None, deadline: float = 30.0) -> list[SpanData]:
        """The proxy's spans matching ``where`` once ``count`` of them are in its store
        (it exports every 0.5 s while running); fails after ``deadline`` seconds."""
        end = time.monotonic() + deadline
        while True:
            found = [s for s in self.spans() if where is None or where(s)] if self.store.exists() else []
            if len(found) >= count or time.monotonic() > end:
                assert len(found) == count, [s.name for s in found]
                return found
            time.sleep(0.1)

    def spans(self) -> list[SpanData]:
        """Every span in its store, oldest first (call after :meth:`stop`)."""
        store = SQLiteStore(self.store)
        spans: list[SpanData] = []
        for info in store.list_traces(limit=None):
            trace = store.get_trace(info.trace_id)
            assert trace is not None
            spans.extend(trace.spans)
        store.close()
        return sorted(spans, key=lambda s: s.start_time_ns)


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[Any]:
    """``start_proxy(upstream, *args)`` -> a running :class:`ProxyProcess` (stopped at teardown)."""
    started: list[ProxyProcess] = []

    def start(upstream: str, *args: str, env: dict[str, str] | None = None, store: str = "proxy.db") -> ProxyProcess:
        proxy = ProxyProcess(upstream, tmp_path / f"{len(started)}-{store}", args, env)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
        proxy.assert_no_internal_error()


@pytest.fixture
def proxy(start_proxy: Any, server: FakeLLMServer) -> ProxyProcess:
    """A proxy of its own in front of the fake LLM server."""
    result: ProxyProcess = start_proxy(server.url)
    return result


@pytest.fixture(scope="module")
def shared_proxy(fake_llm_server: FakeLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """One proxy for a whole test module (starting one costs seconds on a busy machine);
    tests tell their spans apart by a session header of their own (:func:`session_of`)."""
    proxy = ProxyProcess(fake_llm_server.url, tmp_path_factory.mktemp("proxy") / "proxy.db")
    yield proxy
    proxy.stop()
    proxy.assert_no_internal_error()


def session_of(session_id: str) -> Any:
    """A span filter: the spans recorded under ``session_id``."""
    return lambda span: span.attributes.get("session.id") == session_id


def one_span(spans: list[SpanData]) -> SpanData:
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]
