"""``tracekit traces show``: the span tree and waterfall, --io, --json, id forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_traces import AGENT_TRACE, PARTIAL_TRACE, check_golden

from tracekit._cli import main
from tracekit._store import SQLiteStore

AGENT_ID = f"tr-{AGENT_TRACE:032x}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tree(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--store", str(sample_db), "traces", "show", AGENT_ID)
    assert (code, err) == (0, "")
    check_golden("show.txt", out)


def test_tree_with_io(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--store", str(sample_db), "traces", "show", AGENT_ID, "--io")
    assert code == 0
    assert "… (100 more chars)" in out  # long values clipped
    check_golden("show_io.txt", out)


def test_tree_in_colour(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--store", str(sample_db), "--color", "traces", "show", AGENT_ID)
    assert code == 0
    assert "\x1b[31m✗ ERROR\x1b[0m" in out
    check_golden("show_color.txt", out)


def test_partial_trace_shows_orphans_at_top(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--store", str(sample_db), "traces", "show", f"{PARTIAL_TRACE:032x}")
    assert code == 0
    check_golden("show_partial.txt", out)


def test_json_is_the_whole_trace(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--store", str(sample_db), "traces", "show", AGENT_ID.upper()[3:], "--json")
    assert code == 0
    shown = json.loads(out)
    trace = SQLiteStore(sample_db).get_trace(AGENT_ID)
    assert trace is not None
    assert shown == json.loads(json.dumps(trace.to_dict()))
    assert [s["name"] for s in shown["spans"]][:2] == ["answer", "openai.chat.completions"]
    assert shown["spans"][0]["inputs"] == {"question": "What is the capital of France?"}


def test_unique_prefix_is_accepted(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--store", str(sample_db), "traces", "show", "tr-5b8e")
    assert code == 0 and "embed" in out


@pytest.mark.parametrize(
    ("trace_id", "message"),
    [
        ("0af7651916cd", "trace id prefix '0af7651916cd' is ambiguous: tr-0af7651916cd43dd8448eb211c80ffff, tr-0af7"),
        ("tr-" + "1" * 32, "no trace tr-11111111111111111111111111111111 in "),
        ("abcd", "no trace matches 'abcd' in "),
        ("xyz", "not a trace id: 'xyz'"),
    ],
)
def test_bad_ids_are_one_line_errors(
    sample_db: Path, capsys: pytest.CaptureFixture[str], trace_id: str, message: str
) -> None:
    code, out, err = run(capsys, "--store", str(sample_db), "traces", "show", trace_id)
    assert (code, out) == (1, "")
    assert err.startswith("tracekit: error: " + message)
    assert err.count("\n") == 1
