"""``tracekit traces prune``: what it says and what it deletes."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_traces import AGENT_TRACE, PARTIAL_TRACE

from tracekit._cli import main
from tracekit._store import SQLiteStore


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_then_keep(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--store", str(sample_db), "traces", "prune", "--keep", "1", "--dry-run") == (
        0,
        f"would delete 2 of 3 trace(s) from {sample_db}\n",
        "",
    )
    assert SQLiteStore(sample_db).count() == 3
    assert run(capsys, "--store", str(sample_db), "traces", "prune", "--keep", "1") == (
        0,
        f"deleted 2 trace(s) from {sample_db}; 1 left\n",
        "",
    )
    assert [t.trace_id for t in SQLiteStore(sample_db).list_traces()] == [f"tr-{PARTIAL_TRACE:032x}"]


def test_older_than(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the sample traces are from 2023: all older than 30 days
    assert run(capsys, "--store", str(sample_db), "traces", "prune", "--older-than", "30d", "--dry-run")[1] == (
        f"would delete 3 of 3 trace(s) from {sample_db}\n"
    )
    assert run(capsys, "--store", str(sample_db), "traces", "prune", "--older-than", "2023-11-14T22:14:00")[1] == (
        f"deleted 1 trace(s) from {sample_db}; 2 left\n"
    )
    assert SQLiteStore(sample_db).get_trace(f"tr-{AGENT_TRACE:032x}") is None


def test_future_cut_is_refused(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--store", str(sample_db), "traces", "prune", "--older-than", "2999-01-01")
    assert code == 2 and err == "tracekit: error: bad --older-than: '2999-01-01' is in the future\n"
