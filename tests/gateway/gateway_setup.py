"""Configure MLflow AI Gateway endpoints over its REST API (mlflow 3.17.2), pointing at
tracekit's fake LLM server.

The server must run with ``MLFLOW_GATEWAY_API_BASE_ALLOWED_SCHEMES=http,https`` and
``MLFLOW_GATEWAY_API_BASE_ALLOW_PRIVATE_IPS=true`` (see :mod:`tests.export.mlflow_server`),
otherwise an ``api_base`` must be public HTTPS.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import requests


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One gateway endpoint: its name (the SDK's ``model``) and the experiment its own traces go to."""

    name: str
    provider: str
    model: str


def _post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(f"{base}/api/3.0/mlflow/gateway/{path}", json=body, timeout=60)
    assert r.status_code == 200, f"{path}: HTTP {r.status_code} {r.text[:500]}"
    payload: dict[str, Any] = r.json()
    return payload


def create_endpoint(base: str, *, provider: str, model: str, api_base: str, name: str | None = None) -> Endpoint:
    """A secret, a model definition and an endpoint routing to ``api_base``; returns the endpoint.

    ``provider`` is the gateway's provider name (``openai``, ``anthropic``, ``databricks`` ...).
    The fake ignores the API key; the gateway sends it upstream, never to the client.
    """
    tag = uuid.uuid4().hex[:8]
    name = name or f"{provider}-{tag}"
    secret = _post(
        base,
        "secrets/create",
        {
            "secret_name": f"key-{name}",
            "secret_value": {"api_key": "sk-fake-upstream-key"},
            "provider": provider,
            "auth_config": {"api_base": api_base},
        },
    )
    secret_id = secret["secret"]["secret_id"]
    definition = _post(
        base,
        "model-definitions/create",
        {"name": f"def-{name}", "secret_id": secret_id, "provider": provider, "model_name": model},
    )
    definition_id = definition["model_definition"]["model_definition_id"]
    _post(
        base,
        "endpoints/create",
        {
            "name": name,
            "model_configs": [{"model_definition_id": definition_id, "linkage_type": "PRIMARY", "weight": 1}],
            "usage_tracking": True,
        },
    )
    return Endpoint(name, provider, model)
