"""Start and stop a real ``mlflow server`` (SQLite backend, loopback only) for tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests


def mlflow_binary() -> str | None:
    """``$TK_MLFLOW_BIN``, else the project's .venv-mlflow, else ``mlflow`` on PATH."""
    candidates = [
        os.environ.get("TK_MLFLOW_BIN"),
        str(Path(__file__).resolve().parents[2] / ".venv-mlflow" / "bin" / "mlflow"),
        shutil.which("mlflow"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


#: what the AI Gateway needs to route to a fake provider on loopback and to write its mirror
#: spans into the caller's trace (without the last one, mlflow 3.17.2 drops them silently)
GATEWAY_ENV = {
    "MLFLOW_GATEWAY_API_BASE_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_GATEWAY_API_BASE_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class MlflowServer:
    """One ``mlflow server`` process; ``start()``/``stop()`` may be called repeatedly."""

    def __init__(
        self, workdir: Path, port: int | None = None, *, basic_auth: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.basic_auth = basic_auth
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.admin = ("admin", "tk-admin-password-1")
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = mlflow_binary()
        assert binary, "no mlflow binary"
        cmd = [
            binary, "server",
            "--backend-store-uri", f"sqlite:///{self.workdir / 'mlflow.db'}",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "OTEL_", "MLFLOW_TRACKING"))}
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env.update(self.extra_env)
        if self.basic_auth:
            cmd += ["--app-name", "basic-auth"]
            env["MLFLOW_AUTH_CONFIG_PATH"] = str(self._auth_config())
            env["MLFLOW_AUTH_ADMIN_PASSWORD"] = self.admin[1]
            env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "tracekit-tests-only"
        log = (self.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _auth_config(self) -> Path:
        path = self.workdir / "basic_auth.ini"
        path.write_text(
            "[mlflow]\ndefault_permission = READ\n"
            f"database_uri = sqlite:///{self.workdir / 'basic_auth.db'}\n"
            f"admin_username = {self.admin[0]}\nadmin_password = {self.admin[1]}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        return path

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(self.workdir / 'server.log').read_text()[-3000:]}")
            try:
                if requests.get(f"{self.uri}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"mlflow server not healthy after {timeout} s")

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL) the server we started, by pid; its workers share its group."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        pgid = proc.pid  # start_new_session: the group is ours, led by this pid
        os.killpg(pgid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            proc.wait(timeout=10)
        # gunicorn/uvicorn workers of this group
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
