"""``traces list`` finds traces by session, user, tag, model, span type and text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_traces import AGENT_TRACE, ERROR_TRACE, PARTIAL_TRACE, span

from tracekit import _attributes as attr
from tracekit._cli import main
from tracekit._store import SQLiteStore


def ids(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> list[int]:
    code = main(["--store", str(db), "traces", "list", "--json", *args])
    out, _ = capsys.readouterr()
    assert code == 0
    return [int(t["trace_id"][3:], 16) for t in json.loads(out)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--session", "sess-1"], [AGENT_TRACE]),
        (["--session", "sess"], []),  # exact, not a substring
        (["--user", "ada"], [AGENT_TRACE]),
        (["--tag", "env=dev"], [AGENT_TRACE]),
        (["--tag", "env=prod"], []),
        (["--tag", "env=dev", "--tag", "team=x"], []),  # every --tag must match
        (["--model", "gpt-4o-mini"], [AGENT_TRACE]),
        (["--model", "claude-sonnet-4-5"], [AGENT_TRACE]),
        (["--model", "gpt-4"], []),
        (["--type", "embedding"], [PARTIAL_TRACE]),
        (["--type", "TOOL"], [AGENT_TRACE]),
        (["--search", "CAPITAL of france"], [AGENT_TRACE]),  # the root's inputs, any case
        (["--search", "call lookup"], [AGENT_TRACE]),  # a child span's outputs
        (["--search", "100%"], []),  # LIKE wildcards are matched literally
        (["--search", "nowhere"], []),
        (["--status", "ok", "--type", "CHAIN"], [AGENT_TRACE]),
        (["--type", "CHAIN"], [ERROR_TRACE, AGENT_TRACE]),
    ],
)
def test_filters(sample_db: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: list[int]) -> None:
    assert ids(capsys, sample_db, *args) == expected


def test_model_stored_as_json_string_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # MLflow-style attributes hold JSON-encoded strings ('"gpt-4o"')
    db = tmp_path / "t.db"
    SQLiteStore(db).write_spans([span(7, 1, None, "x", "LLM", 0, 1, attributes={attr.LLM_MODEL: '"gpt-4o"'})])
    assert ids(capsys, db, "--model", "gpt-4o") == [7]


def test_more_past_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "many.db"
    SQLiteStore(db).write_spans([span(100 + i, 1, None, f"job-{i}", "CHAIN", i, i + 1) for i in range(40)])
    code = main(["--store", str(db), "--no-color", "traces", "list", "--limit", "3"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 5 and [line.split()[1] for line in lines[1:4]] == ["job-39", "job-38", "job-37"]
    assert lines[4] == "… and 37 more; --limit to see them"
    code = main(["--store", str(db), "traces", "list", "--limit", "3", "--json", "--name", "job-1"])
    out, err = capsys.readouterr()  # job-1, job-10..19: 11 match
    assert len(json.loads(out)) == 3 and err == "… and 8 more; --limit to see them\n"
    main(["--store", str(db), "traces", "list", "--limit", "40"])
    assert "more" not in capsys.readouterr().out


def test_bad_tag_is_a_usage_error(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", str(sample_db), "traces", "list", "--tag", "novalue"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_search_in_a_large_store_is_one_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "big.db"
    spans = [
        span(1000 + i, 1, None, "q", "CHAIN", i, i + 1, attributes={attr.SPAN_INPUTS: json.dumps({"q": f"item {i}"})})
        for i in range(2000)
    ]
    SQLiteStore(db).write_spans(spans)
    assert ids(capsys, db, "--search", "ITEM 1999") == [2999]
