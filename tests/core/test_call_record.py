"""The call record (``tracekit._llm.CallRecord``) and the one function that writes it:
a field left UNSET writes nothing, a written field is cleared (set again, it overwrites),
None and empty lists write nothing, and the derived keys (provider, models, usage,
server, error status) come out as every provider records them."""

from __future__ import annotations

from typing import Any

from tracekit import _llm
from tracekit._span import open_span
from tracekit.testing import SpanCapture


def _written(captured: SpanCapture, *records: _llm.CallRecord) -> Any:
    span = open_span("chat m", "CHAT_MODEL")
    for record in records:
        _llm.write(span, record)
    span.end()
    (readable,) = captured.readable_spans
    return readable


def test_an_empty_record_writes_nothing(captured: SpanCapture) -> None:
    span = _written(captured, _llm.CallRecord())
    assert dict(span.attributes) == {"mlflow.spanType": "CHAT_MODEL"}
    assert span.status.status_code.name == "OK"


def test_request_then_response(captured: SpanCapture) -> None:
    record = _llm.CallRecord()
    record.operation = "chat"
    record.provider = "azure.ai.openai"
    record.llm_provider = "azure"
    record.base_url = "https://user:secret@gw.example:8443/gateway/openai/v1/?key=k"
    record.request_model = "gpt-4o-mini"
    record.max_tokens = 5
    record.stop = ["END"]
    record.tools = []  # no tools: no key
    record.top_k = None  # None: no key
    record.stream = True
    span = open_span("chat m", "CHAT_MODEL")
    _llm.write(span, record)
    assert record.request_model is _llm.UNSET and record.base_url is _llm.UNSET  # cleared
    record.response_model = "gpt-4o-mini-2024-07-18"
    record.response_id = "chatcmpl-1"
    record.finish_reasons = ["stop"]
    record.usage = _llm.Usage(3, 4, cache_read=1)
    record.incomplete = True
    _llm.write(span, record)
    span.end()
    (readable,) = captured.readable_spans
    attrs = dict(readable.attributes)
    assert attrs == {
        "mlflow.spanType": "CHAT_MODEL",
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.system": "azure.ai.openai",
        "mlflow.llm.provider": "azure",
        "server.address": "gw.example",
        "server.port": 8443,
        "tracekit.base_url": "https://gw.example:8443/gateway/openai/v1",
        "tracekit.gateway.path": "/gateway/openai/v1",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "mlflow.llm.model": "gpt-4o-mini-2024-07-18",  # the served model wins
        "gen_ai.request.max_tokens": 5,
        "gen_ai.request.stop_sequences": ("END",),
        "tracekit.stream": True,
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 3,
        "gen_ai.usage.output_tokens": 4,
        "gen_ai.usage.cache_read.input_tokens": 1,
        "mlflow.chat.tokenUsage": '{"input_tokens":3,"output_tokens":4,"total_tokens":7,"cache_read_input_tokens":1}',
        "tracekit.stream.incomplete": True,
    }


def test_a_field_set_again_overwrites_and_falsy_models_keep_the_last(captured: SpanCapture) -> None:
    first, second = _llm.CallRecord(), _llm.CallRecord()
    first.request_model = "asked"
    first.response_id = "a"
    second.response_model = ""  # nothing served: mlflow.llm.model stays the requested one
    second.response_id = "b"
    attrs = dict(_written(captured, first, second).attributes)
    assert attrs["mlflow.llm.model"] == "asked" and "gen_ai.response.model" not in attrs
    assert attrs["gen_ai.response.id"] == "b"


def test_usage_without_counts_writes_nothing(captured: SpanCapture) -> None:
    record = _llm.CallRecord()
    record.usage = _llm.Usage(None, None)
    assert set(_written(captured, record).attributes) == {"mlflow.spanType"}


def test_an_error_inside_an_answer_sets_status_error(captured: SpanCapture) -> None:
    record = _llm.CallRecord()
    _llm.record_error(record, TimeoutError("slow"))
    record.error_type = "server_error"  # a provider's own code wins over the exception's
    record.error_message = "the model failed"
    span = _written(captured, record)
    assert span.attributes["error.type"] == "server_error"
    assert span.status.status_code.name == "ERROR" and span.status.description == "the model failed"
