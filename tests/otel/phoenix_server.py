"""Start and stop a real Arize Phoenix server (loopback only) and read spans back over
its REST API, for the OpenTelemetry-backend tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]


def venv_python() -> Path | None:
    """The Python of the Phoenix virtualenv: ``$TK_PHOENIX_VENV``, else .venv-phoenix."""
    venv = Path(os.environ.get("TK_PHOENIX_VENV") or ROOT / ".venv-phoenix")
    python = venv / "bin" / "python"
    return python if (venv / "bin" / "phoenix").is_file() and python.is_file() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PhoenixServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> None:
        python = venv_python()
        assert python is not None, "no Phoenix virtualenv (bash scripts/test.sh creates .venv-phoenix)"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "OTEL_", "PHOENIX_"))}
        env.update(
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(self.port),
            PHOENIX_GRPC_PORT=str(_free_port()),
            PHOENIX_WORKING_DIR=str(self.workdir),
            PHOENIX_TELEMETRY_ENABLED="false",
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [str(python.parent / "phoenix"), "serve"],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("phoenix exited: " + (self.workdir / "server.log").read_text()[-2000:])
            try:
                if requests.get(self.url + "/healthz", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError("phoenix did not become healthy in time")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def spans(self, project: str, expected: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The project's spans once ``expected`` of them arrived (Phoenix ingests asynchronously)."""
        deadline = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            reply = requests.get(f"{self.url}/v1/projects/{project}/spans", params={"limit": 1000}, timeout=10)
            if reply.status_code == 200:
                found = reply.json()["data"]
                if len(found) >= expected:
                    return found
            time.sleep(0.3)
        raise AssertionError(f"phoenix project {project!r} has {len(found)} span(s), expected {expected}")
