"""The two store writers side by side: ``store_writer="thread"`` (today's: the export
thread encodes and writes) against ``"process"`` (the store writer process does).

Runs ``export_thread.py`` and ``store_micro.py`` once per writer per round, in a
rotated order (A B, B A, ...: the machine is shared and noisy), each in a fresh
process, and prints the medians over rounds as JSON. Figures: the export thread's CPU
per span (what holds the app's GIL), the app process's CPU per span (all its threads,
the caller's included), the writer process's CPU per span (CPU moved, not removed),
the app's RSS.

    .venv/bin/python bench/store_writer_ab.py [--rounds 6] [--calls 3000] [--spans 4000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
WRITERS = ("thread", "process")


def _run(script: str, args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, os.path.join(HERE, script), *args], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--spans", type=int, default=4000)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {w: [] for w in WRITERS}
    for r in range(args.rounds):
        order = WRITERS if r % 2 == 0 else WRITERS[::-1]
        for writer in order:
            row = {
                f"export_thread.{k}": v
                for k, v in _run("export_thread.py", ["--calls", str(args.calls), "--store-writer", writer]).items()
            }
            micro = _run("store_micro.py", ["--spans", str(args.spans), "--repeats", "1", "--store-writer", writer])
            row.update({f"store_micro.{k}": v for k, v in micro.items()})
            runs[writer].append(row)
            print(f"round {r + 1} {writer}: done", file=sys.stderr, flush=True)
    out: dict[str, Any] = {"rounds": args.rounds, "calls": args.calls, "spans": args.spans}
    for writer, rows in runs.items():
        keys = [k for k, v in rows[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        out[writer] = {k: round(statistics.median(row[k] for row in rows), 1) for k in keys}
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
