"""Read traces back from an MLflow server over its REST API (what the tests assert on)."""

from __future__ import annotations

from typing import Any

import requests

from tracekit._export._reader import trace_from_json
from tracekit._model import Trace

AUTH: tuple[str, str] | None = None


def experiment_id(base: str, name: str, auth: tuple[str, str] | None = None) -> str | None:
    r = requests.get(f"{base}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}, auth=auth, timeout=30)
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return str(r.json()["experiment"]["experiment_id"])


def search_trace_infos(
    base: str, exp_id: str, filter_string: str | None = None, auth: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every trace info of the experiment (all pages)."""
    infos: list[dict[str, Any]] = []
    token = None
    while True:
        body: dict[str, Any] = {
            "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}],
            "max_results": 500,
        }
        if filter_string:
            body["filter"] = filter_string
        if token:
            body["page_token"] = token
        r = requests.post(f"{base}/api/3.0/mlflow/traces/search", json=body, auth=auth, timeout=60)
        r.raise_for_status()
        payload = r.json()
        infos.extend(payload.get("traces", []))
        token = payload.get("next_page_token")
        if not token:
            return infos


def get_trace(base: str, trace_id: str, auth: tuple[str, str] | None = None) -> Trace | None:
    r = requests.get(
        f"{base}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id, "allow_partial": "true"}, auth=auth, timeout=30
    )
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return trace_from_json(r.json())
