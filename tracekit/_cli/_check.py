"""``tracekit status --check``: contact the destinations for real, change nothing.

MLflow: ``GET /health`` (is a server there), ``GET /version``, then the experiment the
spans would go to: by id (must exist and be active) or by name (may be missing: the
exporter creates it on the first export, which the check reports but does not do).
OTLP: ``POST`` of an empty ``ExportTraceServiceRequest`` (zero bytes of protobuf) to the
traces endpoint, which a collector accepts with 200. The local store: the file is an
SQLite trace store, or its directory can be created.

Unlike the exporters, the check uses no outbox and writes no status file, so running
it never changes what ``tracekit status`` reports about the app's last run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tracekit._export._experiments import error_code

if TYPE_CHECKING:
    from tracekit._config import Settings
    from tracekit._export._http import HttpClient, HttpResult
    from tracekit._export.otlp import OtlpConfig

__all__ = ["CheckResult", "check_mlflow", "check_otlp", "check_store"]

CHECK_TIMEOUT_S = 5.0


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """One destination's verdict: ``ok`` and a one-line message."""

    target: str
    ok: bool
    message: str


def _refused(result: HttpResult) -> bool:
    return result.status in (401, 403)


def check_mlflow(settings: Settings, environ: Mapping[str, str] | None = None) -> CheckResult:
    """Reach the MLflow server and find the experiment, without creating anything."""
    from tracekit._export._http import TransportError
    from tracekit._export.mlflow import mlflow_client
    from tracekit._redact import redact_url

    uri = settings.tracking_uri.rstrip("/")
    shown = redact_url(uri)
    client = mlflow_client(timeout=CHECK_TIMEOUT_S, environ=environ)
    try:
        try:
            health = client.request("GET", f"{uri}/health")
        except TransportError as exc:
            return CheckResult("mlflow", False, f"cannot reach the MLflow server at {shown}: {exc}")
        if health.status != 200:
            return CheckResult("mlflow", False, f"{shown}/health answered {health.reason(120)}: is this an MLflow server?")
        server = "MLflow"
        try:
            version = client.request("GET", f"{uri}/version")
            if version.status == 200 and len(version.body) < 40:
                server = f"MLflow {version.body.decode('utf-8', 'replace').strip()}"
        except TransportError:
            pass
        where = f"{server} at {shown}"
        try:
            return _check_experiment(client, uri, where, settings.experiment_name, settings.experiment_id)
        except TransportError as exc:
            return CheckResult("mlflow", False, f"{where} stopped answering: {exc}")
    finally:
        client.close()


def _check_experiment(client: HttpClient, uri: str, where: str, name: str | None, experiment_id: str | None) -> CheckResult:
    api = f"{uri}/api/2.0/mlflow/experiments"
    if experiment_id or not name:
        wanted = experiment_id or "0"
        label = f"experiment id {wanted}" + ("" if experiment_id else " (the default)")
        result = client.request("GET", f"{api}/get", params={"experiment_id": wanted})
        if _refused(result):
            return CheckResult("mlflow", False, f"{where} refused the credentials ({result.reason(120)})")
        if result.status == 404 or error_code(result) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return CheckResult("mlflow", False, f"{where}: {label} does not exist (MLFLOW_EXPERIMENT_ID / experiment_id)")
        if result.status != 200:
            return CheckResult("mlflow", False, f"{where}: looking up {label} failed: {result.reason(120)}")
        experiment = result.json().get("experiment") or {}
        if experiment.get("lifecycle_stage") == "deleted":
            return CheckResult("mlflow", False, f"{where}: {label} is deleted; restore it or pick another")
        return CheckResult("mlflow", True, f"{where}, {label} ({experiment.get('name')!r})")
    result = client.request("GET", f"{api}/get-by-name", params={"experiment_name": name})
    if _refused(result):
        return CheckResult("mlflow", False, f"{where} refused the credentials ({result.reason(120)})")
    if result.status == 404 or error_code(result) == "RESOURCE_DOES_NOT_EXIST":
        return CheckResult(
            "mlflow", True, f"{where}; experiment {name!r} does not exist yet: the first export will create it"
        )
    if result.status != 200:
        return CheckResult("mlflow", False, f"{where}: looking up experiment {name!r} failed: {result.reason(120)}")
    experiment = result.json().get("experiment") or {}
    if experiment.get("lifecycle_stage") == "deleted":
        return CheckResult(
            "mlflow", False, f"{where}: experiment {name!r} is deleted; restore it or pick another name"
        )
    return CheckResult("mlflow", True, f"{where}, experiment {name!r} (id {experiment.get('experiment_id')})")


def check_otlp(config: OtlpConfig) -> CheckResult:
    """POST an empty export request: a live OTLP/HTTP endpoint answers 2xx."""
    from tracekit._export._http import HttpClient, TransportError
    from tracekit._redact import redact_url

    shown = redact_url(config.endpoint)
    cert = (config.client_certificate, config.client_key) if config.client_certificate and config.client_key else None
    client = HttpClient(config.headers, verify=config.certificate or True, cert=cert, timeout=CHECK_TIMEOUT_S)
    try:
        # an ExportTraceServiceRequest with no spans is the empty protobuf message: zero bytes
        result = client.request("POST", config.endpoint, body=b"", headers={"Content-Type": "application/x-protobuf"})
    except TransportError as exc:
        return CheckResult("otlp", False, f"cannot reach the OTLP endpoint {shown}: {exc}")
    finally:
        client.close()
    if 200 <= result.status < 300:
        return CheckResult("otlp", True, f"OTLP endpoint {shown} accepted an empty export")
    if _refused(result):
        return CheckResult("otlp", False, f"OTLP endpoint {shown} refused the credentials ({result.reason(120)})")
    return CheckResult("otlp", False, f"OTLP endpoint {shown} answered {result.reason(120)}")


def check_store(path: Path) -> CheckResult:
    """The local store is readable, or can be created where it is configured."""
    from tracekit._cli._base import CliError, check_store_file

    if path.exists():
        try:
            check_store_file(path)
        except CliError as exc:
            return CheckResult("store", False, exc.message)
        if not os.access(path, os.W_OK):
            return CheckResult("store", False, f"the trace store {path} is not writable")
        return CheckResult("store", True, f"the trace store {path} is readable and writable")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        return CheckResult("store", False, f"the trace store {path} cannot be created: {parent} is not a writable directory")
    return CheckResult("store", True, f"the trace store {path} does not exist yet: the first trace will create it")
