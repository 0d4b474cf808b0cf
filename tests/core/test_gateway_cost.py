"""The pure parts of the gateway facts and of cost: kind detection, header parsing,
the ``propagate_context`` setting, and that pricing stays lazy and off ``import tracekit``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tracekit
from tracekit import _attributes as attr
from tracekit import _config, _gateway


@pytest.mark.parametrize(
    ("headers", "path", "kind"),
    [
        ({"x-litellm-call-id": "c"}, "/v1", "litellm"),
        ({"x-mlflow-gateway-duration-ms": "3"}, "/", "mlflow"),
        ({}, "/gateway/openai/v1", "mlflow"),
        ({}, "/gateway", "mlflow"),
        ({}, "/gatewayx/v1", None),
        ({"via": "1.1 kong/3.9.1"}, "/", "kong"),
        ({"x-kong-proxy-latency": "1"}, "/openai", "kong"),
        ({}, "/serving-endpoints", "databricks"),
        ({"x-databricks-org-id": "1"}, "/", "databricks"),
        ({"x-request-id": "r", "openai-processing-ms": "1"}, "/v1", None),
        ({"x-litellm-model-name": "m"}, "/gateway/openai/v1", "litellm"),  # the headers say more than the path
    ],
)
def test_kind(headers: dict[str, str], path: str, kind: str | None) -> None:
    assert _gateway.kind(headers, path) == kind


def test_attributes_skip_what_is_not_a_number_and_keep_the_alias() -> None:
    headers = _gateway.lower_headers(
        {"X-LiteLLM-Model-Name": "gpt-4o", "X-LiteLLM-Overhead-Duration-Ms": "n/a", "x-litellm-response-cost": "nan"}
    )
    assert _gateway.attributes(headers, "/v1", "alias", "alias") == {
        attr.GATEWAY_KIND: "litellm",
        attr.GATEWAY_MODEL_ALIAS: "alias",
        attr.GEN_AI_RESPONSE_MODEL: "gpt-4o",
        attr.LLM_MODEL: "gpt-4o",
    }
    assert _gateway.gateway_cost(headers) is None
    assert _gateway.gateway_cost({"x-litellm-response-cost": "-1"}) is None
    assert _gateway.gateway_cost({"x-litellm-response-cost": " 0.5 "}) == 0.5
    # the gateway names the model the body named: no alias
    assert attr.GATEWAY_MODEL_ALIAS not in _gateway.attributes({"x-litellm-model-name": "m"}, "/", "m", "m")


def test_error_body_is_bounded_json() -> None:
    class Err(Exception):
        body = {"detail": "x" * 20_000}

    text = _gateway.error_body(Err())
    assert text is not None and text.startswith('{"detail": "xxx') and len(text) == _gateway.MAX_ERROR_BODY
    assert _gateway.error_body(ValueError("no body")) is None


def test_propagate_context_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tracekit.get_settings().propagate_context is True
    monkeypatch.setenv("TRACEKIT_PROPAGATE_CONTEXT", "false")
    _config.reset()
    assert tracekit.get_settings().propagate_context is False
    assert tracekit.configure(propagate_context=True).propagate_context is True
    with pytest.raises(tracekit.ConfigError):
        tracekit.configure(propagate_context="sometimes")


def test_pricing_is_never_imported_by_import_tracekit_nor_autolog() -> None:
    code = "import sys, tracekit, tracekit.openai\ntracekit.openai.autolog()\nprint('genai_prices' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
