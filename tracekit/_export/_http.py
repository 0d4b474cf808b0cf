"""One HTTP client configuration per destination: auth, TLS, timeouts, no secrets in logs.

A thin layer over ``requests``: every call returns an :class:`HttpResult` or raises
:class:`TransportError` (connection refused, reset, timeout, TLS failure), so callers
classify outcomes in one place (:mod:`tracekit._export._retry`).
"""

from __future__ import annotations

import base64
import configparser
import dataclasses
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

__all__ = ["HttpClient", "HttpResult", "TransportError", "mlflow_auth_headers", "mlflow_client", "mlflow_tls"]


class TransportError(Exception):
    """The request never got an HTTP answer (connection error, timeout, TLS error)."""


@dataclasses.dataclass(frozen=True)
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body or b"null")

    def reason(self, limit: int = 300) -> str:
        """A one-line description of a failed answer: status and the server's message."""
        text = self.body[:2000].decode("utf-8", "replace").strip().replace("\n", " ")
        try:
            payload = self.json()
            if isinstance(payload, dict):
                text = str(payload.get("message") or payload.get("detail") or text)
        except ValueError:
            pass
        return f"HTTP {self.status}: {text[:limit]}" if text else f"HTTP {self.status}"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _credentials_file() -> tuple[str | None, str | None]:
    """``~/.mlflow/credentials`` as MLflow's client reads it (``[mlflow]`` section)."""
    path = Path("~/.mlflow/credentials").expanduser()
    if not path.is_file():
        return None, None
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None, None
    if "mlflow" not in parser:
        return None, None
    section = parser["mlflow"]
    return section.get("mlflow_tracking_username"), section.get("mlflow_tracking_password")


def mlflow_auth_headers(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``Authorization`` header MLflow's own client would send.

    ``MLFLOW_TRACKING_USERNAME`` + ``MLFLOW_TRACKING_PASSWORD`` (env first, then
    ``~/.mlflow/credentials``) give Basic auth and win over ``MLFLOW_TRACKING_TOKEN``
    (Bearer), as in ``mlflow.utils.rest_utils.http_request`` (mlflow 3.17).
    """
    env = os.environ if environ is None else environ
    file_user, file_password = _credentials_file() if environ is None else (None, None)
    user = env.get("MLFLOW_TRACKING_USERNAME") or file_user
    password = env.get("MLFLOW_TRACKING_PASSWORD") or file_password
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    bearer = env.get("MLFLOW_TRACKING_TOKEN")
    if bearer:
        return {"Authorization": f"Bearer {bearer}"}
    return {}


def mlflow_tls(environ: Mapping[str, str] | None = None) -> tuple[bool | str, str | None]:
    """``(verify, cert)`` for requests from MLflow's TLS variables.

    ``MLFLOW_TRACKING_INSECURE_TLS=true`` turns verification off;
    ``MLFLOW_TRACKING_SERVER_CERT_PATH`` is a CA bundle; ``MLFLOW_TRACKING_CLIENT_CERT_PATH``
    a client certificate (with its key in the same PEM). MLflow refuses the first two
    together; so do we (``ValueError``).
    """
    env = os.environ if environ is None else environ
    insecure = _truthy(env.get("MLFLOW_TRACKING_INSECURE_TLS"))
    ca = env.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None
    if insecure and ca:
        raise ValueError("MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH are both set; set only one")
    verify: bool | str = False if insecure else (ca or True)
    return verify, env.get("MLFLOW_TRACKING_CLIENT_CERT_PATH") or None


class HttpClient:
    """A ``requests.Session`` with fixed headers, TLS settings and a timeout.

    One per exporter; it is used by the exporter's worker thread (and by an explicit
    flush), so it never runs on the app's thread during a traced call.
    """

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        from tracekit._version import __version__

        self._session = requests.Session()
        self._session.trust_env = True  # proxies from HTTP(S)_PROXY / NO_PROXY, like MLflow's client
        self._headers = {"User-Agent": f"tracekit/{__version__}", **(headers or {})}
        self._verify = verify
        self._cert = cert
        self.timeout = timeout
        #: time.monotonic() no request may wait past (the exit hook's budget), or None
        self.deadline: float | None = None

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> HttpResult:
        """Send one request; raise :class:`TransportError` when no HTTP answer came back."""
        merged = dict(self._headers)
        if headers:
            merged.update(headers)
        wait = self.timeout if timeout is None else max(timeout, 0.1)
        if self.deadline is not None:
            wait = max(min(wait, self.deadline - time.monotonic()), 0.1)
        try:
            response = self._session.request(
                method,
                url,
                data=body,
                json=json_body,
                params=params,
                headers=merged,
                timeout=(min(wait, 5.0), wait),
                verify=self._verify,
                cert=self._cert,
                allow_redirects=False,
            )
            content = response.content
        except requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__}: {_short(exc)}") from None
        return HttpResult(response.status_code, dict(response.headers), content)

    def close(self) -> None:
        self._session.close()


def _short(exc: BaseException) -> str:
    """The useful part of a requests/urllib3 error ("[Errno 111] Connection refused")."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if match:
        return match.group(0).strip()
    if "Read timed out" in text:
        return "read timed out"
    return text[:300]


def mlflow_client(timeout: float = 10.0, environ: Mapping[str, str] | None = None) -> HttpClient:
    """An HTTP client authenticated and configured for TLS like MLflow's own client."""
    verify, cert = mlflow_tls(environ)
    return HttpClient(mlflow_auth_headers(environ), verify=verify, cert=cert, timeout=timeout)
