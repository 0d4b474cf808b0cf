"""``tracekit traces list``: table, JSON, filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_traces import AGENT_TRACE, ERROR_TRACE, PARTIAL_TRACE, check_golden

from tracekit._cli import main
from tracekit._store import SQLiteStore


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_newest_first(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--store", str(sample_db), "traces", "list")
    assert (code, err) == (0, "")
    assert "\x1b[" not in out  # captured output is not a terminal: no colour
    check_golden("list.txt", out)


def test_json_is_parseable_and_complete(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "traces", "list", "--json", "--store", str(sample_db))
    assert code == 0
    listed = json.loads(out)
    assert [t["trace_id"] for t in listed] == [f"tr-{t:032x}" for t in (PARTIAL_TRACE, ERROR_TRACE, AGENT_TRACE)]
    costs = [t.pop("cost_usd") for t in listed]
    assert listed == [info.to_dict() for info in SQLiteStore(sample_db).list_traces()]
    assert costs == [None, None, pytest.approx(0.0012)]  # 0.00042 (tracekit key) + 0.00078 (mlflow.llm.cost)
    agent = listed[2]
    assert agent["token_usage"] == {"input_tokens": 320, "output_tokens": 42, "total_tokens": 362}
    assert (agent["session_id"], agent["tags"], agent["span_count"]) == ("sess-1", {"env": "dev"}, 5)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--name", "SUMM"], [ERROR_TRACE]),
        (["--name", "a*"], [AGENT_TRACE]),
        (["--status", "error"], [ERROR_TRACE]),
        (["--status", "IN_PROGRESS"], [PARTIAL_TRACE]),
        (["--since", "2023-11-14T22:14:00"], [PARTIAL_TRACE, ERROR_TRACE]),  # local time (TZ=UTC)
        (["--since", "2023-11-14T23:14:00+01:00", "--until", "2023-11-14T22:15:00Z"], [ERROR_TRACE]),
        (["--until", "1h"], [PARTIAL_TRACE, ERROR_TRACE, AGENT_TRACE]),
        (["--limit", "1"], [PARTIAL_TRACE]),
    ],
)
def test_filters(sample_db: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: list[int]) -> None:
    code, out, _ = run(capsys, "--store", str(sample_db), "traces", "list", "--json", *args)
    assert code == 0
    assert [t["trace_id"] for t in json.loads(out)] == [f"tr-{t:032x}" for t in expected]


def test_nothing_matches(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--store", str(sample_db), "traces", "list", "--since", "10m")
    assert (code, out, err) == (0, "", "no traces match\n")
    code, out, _ = run(capsys, "--store", str(sample_db), "traces", "list", "--since", "2d", "--json")
    assert (code, json.loads(out)) == (0, [])


@pytest.mark.parametrize("value", ["yesterday", "10x", "2023-13-45"])
def test_bad_since_is_a_one_line_usage_error(sample_db: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out, err = run(capsys, "--store", str(sample_db), "traces", "list", "--since", value)
    assert (code, out) == (2, "")
    assert err.startswith("tracekit: error: bad --since: ") and err.count("\n") == 1
    assert "Traceback" not in err
