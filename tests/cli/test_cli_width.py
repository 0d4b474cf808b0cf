"""``traces list`` and ``traces show`` fit the terminal: golden files at several widths."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_traces import AGENT_TRACE, check_golden

from tracekit._cli import main

WIDTHS = (60, 80, 100, 140)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return out


def visible(line: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", line)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("color", [False, True])
def test_list_fits(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int, color: bool
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    out = run(capsys, "--store", str(sample_db), "--color" if color else "--no-color", "traces", "list")
    assert max(len(visible(line)) for line in out.splitlines()) <= width
    assert ("\x1b[" in out) is color
    check_golden(f"list_{width}{'_color' if color else ''}.txt", out)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("color", [False, True])
def test_show_fits(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int, color: bool
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    flag = "--color" if color else "--no-color"
    out = run(capsys, "--store", str(sample_db), flag, "traces", "show", f"{AGENT_TRACE:032x}")
    assert max(len(visible(line)) for line in out.splitlines()) <= width
    check_golden(f"show_{width}{'_color' if color else ''}.txt", out)


def test_short_ids_in_a_narrow_list_open_the_trace(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    listed = run(capsys, "--store", str(sample_db), "traces", "list").splitlines()
    short = listed[-1].split()[0]
    assert short == "0af7651916cd43dd8448eb211c80319c"[: len(short)] and len(short) < 32
    shown = run(capsys, "--store", str(sample_db), "traces", "show", short)
    assert shown.startswith(f"tr-{AGENT_TRACE:032x}")


def test_piped_output_is_not_cut(sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # not a terminal and no COLUMNS: the natural layout, so grep sees whole ids and names
    monkeypatch.delenv("COLUMNS", raising=False)
    out = run(capsys, "--store", str(sample_db), "traces", "list")
    assert f"tr-{AGENT_TRACE:032x}" in out


def test_tiny_columns_value_is_read_as_60(
    sample_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    at_60 = run(capsys, "--store", str(sample_db), "traces", "list")
    monkeypatch.setenv("COLUMNS", "20")
    assert run(capsys, "--store", str(sample_db), "traces", "list") == at_60


def test_real_terminal_width_without_columns(sample_db: Path) -> None:
    # a pseudo-terminal 70 columns wide, COLUMNS unset: the CLI asks the terminal
    import fcntl
    import os
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 70, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES") and not k.startswith("TRACEKIT_")}
    env.update(PYTHONPATH=os.pathsep.join(sys.path), NO_COLOR="1", TZ="UTC")
    proc = subprocess.run(
        [sys.executable, "-m", "tracekit", "--store", str(sample_db), "traces", "list"],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        check=False,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.returncode == 0, proc.stderr
    lines = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
    assert lines[0].startswith("TRACE ID") and max(len(line) for line in lines) <= 70
    assert lines[-1].split()[0] == "0af7651916cd43dd8448eb211c803"  # short ids: the full layout is 113 wide
