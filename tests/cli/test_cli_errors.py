"""Store selection, one-line errors, and the subcommand registry."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from tracekit import _cli
from tracekit._cli import CliError, Context, _demo, main
from tracekit._cli._base import SubParsers


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_missing_store_says_how_to_get_traces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "traces", "list")  # default store under $TRACEKIT_HOME
    expected = tmp_path / "home" / "traces.db"
    assert (code, out) == (1, "")
    assert err == f"tracekit: error: no traces yet at {expected} — run an instrumented app or `tracekit demo`\n"
    assert not expected.exists()  # reading never creates the store


def test_store_from_tracking_uri_or_option(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEKIT_TRACKING_URI", f"sqlite:///{sample_db}")
    assert run(capsys, "traces", "list")[0] == 0
    monkeypatch.setenv("TRACEKIT_TRACKING_URI", "http://mlflow:5000")  # not sqlite: default path
    assert run(capsys, "traces", "list")[0] == 1
    assert run(capsys, "traces", "list", "--store", f"sqlite:///{sample_db}")[0] == 0
    code, _, err = run(capsys, "--store", "sqlite://host/x", "traces", "list")
    assert code == 2 and err.startswith("tracekit: error: bad --store")


def test_newer_schema_is_a_one_line_error(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(sample_db) as conn:
        conn.execute("PRAGMA user_version = 99")
    code, _, err = run(capsys, "--store", str(sample_db), "traces", "list")
    assert code == 1
    assert err.startswith("tracekit: error: the trace store ") and "upgrade tracekit" in err
    assert err.count("\n") == 1


def test_usage_errors_exit_2(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "traces", "list", "--status", "MAYBE")[0] == 2
    assert run(capsys, "traces", "list", "--limit", "0")[0] == 2
    assert run(capsys, "nonsense")[0] == 2
    assert run(capsys)[0] == 2  # no command: help
    assert run(capsys, "traces")[0] == 2


def test_unexpected_errors_are_one_line(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr("tracekit._store._query.find_traces", broken)
    code, _, err = run(capsys, "--store", str(sample_db), "traces", "list")
    assert code == 1
    assert err == "tracekit: internal error: OSError: disk on fire (TRACEKIT_DEBUG=1 shows more)\n"


def test_demo_missing_is_a_clear_error(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_demo, "DEMO_MODULE", "tracekit._no_such_demo")
    code, _, err = run(capsys, "demo")
    assert code == 1
    assert err == (
        "tracekit: error: `tracekit demo` is not available: tracekit._no_such_demo is missing from this installation\n"
    )


def test_registry_adds_a_subcommand(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_hello(args: argparse.Namespace, ctx: Context) -> int:
        if args.who == "nobody":
            raise CliError("nobody to greet", exit_code=2)
        print(f"hello {args.who} from {ctx.store_path().name}", file=ctx.out)
        return 0

    def register(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
        hello = subparsers.add_parser("hello", help="greet")
        hello.add_argument("who")
        hello.set_defaults(handler=run_hello)

    monkeypatch.setattr(_cli, "COMMANDS", list(_cli.COMMANDS))
    _cli.add_command("hello", register)
    with pytest.raises(ValueError, match="already registered"):
        _cli.add_command("hello", register)
    # Global options work before or after the subcommand.
    assert run(capsys, "hello", "you", "--store", str(sample_db)) == (0, "hello you from traces.db\n", "")
    assert run(capsys, "--store", str(sample_db), "hello", "nobody") == (2, "", "tracekit: error: nobody to greet\n")
