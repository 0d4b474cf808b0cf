"""Colour only on a terminal, never when piped or with NO_COLOR; flags override."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cli(args: list[str], env_extra: dict[str, str], *, tty: bool) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TZ": "UTC", "PYTHONIOENCODING": "utf-8", **env_extra}
    cmd = [sys.executable, "-m", "tracekit", *args]
    if not tty:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    leader, follower = pty.openpty()
    try:
        subprocess.run(cmd, env=env, stdout=follower, stderr=subprocess.PIPE, check=True)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(leader)


@pytest.mark.parametrize(
    ("tty", "env", "flags", "colour"),
    [
        (False, {}, [], False),
        (True, {}, [], True),
        (True, {"NO_COLOR": "1"}, [], False),
        (True, {"NO_COLOR": ""}, [], True),  # empty NO_COLOR does not count (no-color.org)
        (False, {}, ["--color"], True),
        (True, {}, ["--no-color"], False),
    ],
)
def test_colour_choice(sample_db: Path, tty: bool, env: dict[str, str], flags: list[str], colour: bool) -> None:
    out = _cli(["--store", str(sample_db), "traces", "list", *flags], env, tty=tty)
    assert "answer" in out
    assert ("\x1b[" in out) is colour
