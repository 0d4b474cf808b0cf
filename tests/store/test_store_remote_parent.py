"""A fragment that continues a caller's trace (``start_span(parent=headers)``) has no root
in this process: the local store and the CLI show it complete once its local top span ends,
marked as continuing a remote trace -- never "in progress" forever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tracekit
from tracekit._cli import main
from tracekit._model import CONTINUES_REMOTE
from tracekit._store import SQLiteStore

HEADERS = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
TRACE_ID = "tr-4bf92f3577b34da6a3ce929d0e0e4736"


def _handle(*, flush_between: bool) -> None:
    with tracekit.start_span("handle /chat", span_type="CHAIN", inputs={"q": "hi"}, parent=HEADERS) as top:
        with tracekit.start_span("lookup", span_type="TOOL"):
            pass
        if flush_between:
            tracekit.flush(timeout=10)  # the child is stored alone first: the trace is in progress
        top.set_outputs("hello")


@pytest.mark.parametrize("flush_between", [False, True], ids=["one-batch", "child-first"])
def test_fragment_is_complete_when_its_local_top_span_ends(store_path: Path, flush_between: bool) -> None:
    _handle(flush_between=flush_between)
    assert tracekit.flush(timeout=10).pending == 0
    store = SQLiteStore(store_path)
    [info] = store.list_traces()
    assert (info.trace_id, info.name, info.status, info.span_count) == (TRACE_ID, "handle /chat", "OK", 2)
    assert info.metadata[CONTINUES_REMOTE] == "00f067aa0ba902b7"
    assert info.end_time_ns is not None
    assert info.request_preview == '{"q":"hi"}' and info.response_preview == "hello"
    trace = store.get_trace(TRACE_ID)
    assert trace is not None and trace.root is not None and trace.root.name == "handle /chat"
    assert (trace.info.status, trace.info.name, trace.info.metadata) == (info.status, info.name, info.metadata)


def test_a_lone_local_top_span(store_path: Path) -> None:
    with tracekit.start_span("handle", span_type="CHAIN", parent=HEADERS):
        pass
    tracekit.flush(timeout=10)
    [info] = SQLiteStore(store_path).list_traces()
    assert (info.status, info.metadata[CONTINUES_REMOTE]) == ("OK", "00f067aa0ba902b7")


def test_an_ordinary_trace_is_not_marked(store_path: Path) -> None:
    with tracekit.start_span("answer", span_type="CHAIN"):
        pass
    tracekit.flush(timeout=10)
    [info] = SQLiteStore(store_path).list_traces()
    assert info.status == "OK" and CONTINUES_REMOTE not in info.metadata


def test_cli_lists_and_shows_it_as_continuing(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _handle(flush_between=False)
    tracekit.flush(timeout=10)
    assert main(["--store", str(store_path), "traces", "list"]) == 0
    listing = capsys.readouterr().out
    assert "OK (remote parent)" in listing and "IN_PROGRESS" not in listing
    assert main(["--store", str(store_path), "traces", "show", TRACE_ID]) == 0
    shown = capsys.readouterr().out
    assert "OK (remote parent)" in shown and "lookup" in shown
    assert main(["--store", str(store_path), "traces", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "OK"
