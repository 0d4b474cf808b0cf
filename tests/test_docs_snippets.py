"""Every ```python block in README.md and docs/ runs to completion on its own.

A block that cannot run here (it needs a real provider key, a gateway on another host,
a framework's server) says so on its first line: ``# not run: <reason>``; such blocks
are listed by :func:`test_unrun_snippets_give_a_reason` so the reason stays visible.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
_FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
_NOT_RUN = re.compile(r"^# not run: (.+)$")


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{line}", match.group(1)))
    return found


BLOCKS = _blocks()
RUNNABLE = [(where, code) for where, code in BLOCKS if not _NOT_RUN.match(code.split("\n", 1)[0])]


@pytest.mark.parametrize(("where", "code"), RUNNABLE, ids=[where for where, _ in RUNNABLE])
def test_snippet_runs(where: str, code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env["TRACEKIT_HOME"] = str(tmp_path / "home")
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"{where}\n{proc.stdout}\n{proc.stderr}"
    assert "internal error" not in proc.stderr, f"{where}\n{proc.stderr}"


def test_unrun_snippets_give_a_reason() -> None:
    for where, code in BLOCKS:
        first = code.split("\n", 1)[0]
        if first.startswith("# not run"):
            match = _NOT_RUN.match(first)
            assert match and len(match.group(1).strip()) > 10, f"{where}: say why the snippet cannot run"
