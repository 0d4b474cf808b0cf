"""autolog(): idempotent, fully removable, lazy about the SDK, and gateway base URLs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import anthropic
import pytest
import wrapt
from anthropic_spans import MODEL, USER, attributes, only_span

import tracekit
from tracekit import _llm
from tracekit._providers.anthropic._patches import PATCHES
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def test_idempotent_and_disable(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    create = anthropic.resources.messages.messages.Messages.__dict__["create"]
    tracekit.anthropic.autolog()
    tracekit.anthropic.autolog()
    assert anthropic.resources.messages.messages.Messages.__dict__["create"] is create  # not wrapped twice
    client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    assert len(captured.spans) == 1

    tracekit.anthropic.autolog(disable=True)
    assert not any(_llm.is_applied(p) for p in PATCHES)
    for patch in PATCHES:
        owner = getattr(__import__(patch.module, fromlist=[patch.cls]), patch.cls)
        assert not isinstance(owner.__dict__[patch.method], wrapt.FunctionWrapper), patch
    client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    with client.messages.stream(model=MODEL, max_tokens=8, messages=USER) as stream:
        stream.until_done()
    assert len(captured.spans) == 1
    tracekit.anthropic.autolog(disable=True)  # twice is fine


def test_every_surface_is_in_the_table() -> None:
    calls = [p for p in PATCHES if not isinstance(p.endpoint, _llm.ResponseTap)]
    applied = {(p.module.rsplit(".", 3)[-3], p.cls, p.method) for p in calls if _llm.is_applied(p)}
    for root in ("resources", "beta"):
        for cls in ("Messages", "AsyncMessages"):
            for method in ("create", "parse", "stream"):
                assert (root, cls, method) in applied
    assert not any(p.method == "count_tokens" for p in PATCHES)
    taps = {(p.module, p.cls, p.method) for p in PATCHES if isinstance(p.endpoint, _llm.ResponseTap) and _llm.is_applied(p)}
    assert taps == {("anthropic._base_client", c, "_process_response") for c in ("SyncAPIClient", "AsyncAPIClient")}


def test_client_made_before_autolog(server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.anthropic.autolog(disable=True)
    early = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="k", max_retries=0)
    raw_before = early.messages.with_raw_response
    tracekit.anthropic.autolog()
    early.messages.create(model=MODEL, max_tokens=8, messages=USER)
    early.beta.messages.create(model=MODEL, max_tokens=8, messages=USER)
    assert len(captured.spans) == 2
    # anthropic 2.12.0 caches `with_raw_response` and binds `create` in it when first
    # read: one read before autolog() keeps the untraced method (documented limit)
    raw_before.create(model=MODEL, max_tokens=8, messages=USER)
    assert len(captured.spans) == 2


def test_cached_raw_wrapper_goes_quiet_after_disable(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    raw = client.messages.with_raw_response  # binds the traced create
    raw.create(model=MODEL, max_tokens=8, messages=USER)
    tracekit.anthropic.autolog(disable=True)
    raw.create(model=MODEL, max_tokens=8, messages=USER).parse()
    assert len(captured.spans) == 1


def test_import_is_lazy_and_missing_sdk_names_the_extra() -> None:
    code = textwrap.dedent(
        """
        import sys
        import tracekit, tracekit.anthropic
        assert "anthropic" not in sys.modules, "importing tracekit.anthropic imported the SDK"
        sys.modules["anthropic"] = None  # as if it were not installed
        try:
            tracekit.anthropic.autolog()
        except ImportError as exc:
            assert "pip install 'tracekit[anthropic]'" in str(exc), exc
        else:
            raise SystemExit("no ImportError")
        assert "anthropic" not in tracekit.autolog()  # the umbrella skips it quietly
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("prefix", ["/gateway/anthropic", "/v1", "/serving-endpoints/claude"])
def test_gateway_base_path(server: FakeLLMServer, captured: SpanCapture, prefix: str) -> None:
    client = anthropic.Anthropic(base_url=server.url_for(prefix), api_key="k", max_retries=0)
    client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    assert server.last_request is not None and server.last_request.path == f"{prefix}/v1/messages"
    values = attributes(only_span(captured))
    assert values["tracekit.gateway.path"] == prefix
    assert values["tracekit.base_url"] == server.url + prefix
    assert values["server.address"] == "127.0.0.1" and values["server.port"] == server.port


def test_disabled_tracing_leaves_the_call_alone(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    tracekit.configure(enabled=False)
    message = client.messages.create(model=MODEL, max_tokens=8, messages=USER)
    with client.messages.stream(model=MODEL, max_tokens=8, messages=USER) as stream:
        assert type(stream).__name__ == "MessageStream"
        assert stream.get_final_text() == message.content[0].text
    assert captured.spans == []
