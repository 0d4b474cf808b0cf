"""Caller-thread CPU that tracing adds to one 20-chunk stream, real SDK, paired blocks.

The app of ``_apps.py`` (real SDK clients over the fake server's in-process transport)
streams one answer; autolog is switched on and off in ABBA cycles (off, on, on, off) of
``--block`` calls, and the added cost is the median over cycles of the caller thread's
CPU per call, on minus off (the two "off" blocks give the A/A noise). Thread CPU, not
wall time: a busy machine preempts, it does not add instructions.

    .venv/bin/python bench/stream_paired.py [--cycles 15 --block 40]   # prints JSON
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TRACEKIT_HOME", tempfile.mkdtemp(prefix="tracekit-paired-"))


def _block(fn: Any, n: int) -> float:
    t = time.thread_time_ns()
    for _ in range(n):
        fn()
    return (time.thread_time_ns() - t) / n / 1e3


def measure(provider: str, cycles: int, block: int) -> dict[str, Any]:
    from _apps import App

    import tracekit

    integration = getattr(tracekit, provider)
    app = App(provider)
    # the app binds the SDK method when it is built: one built untraced, one traced
    # (google-genai looks its patched internals up per call: autolog is toggled too)
    off_fn = app.call(stream=True)
    integration.autolog()
    on_fn = app.call(stream=True)
    for _ in range(block):
        on_fn()
    added, aa, off_us = [], [], []
    for _ in range(cycles):
        app.clear()
        integration.autolog(disable=True)
        off1 = _block(off_fn, block)
        integration.autolog()
        on1 = _block(on_fn, block)
        on2 = _block(on_fn, block)
        integration.autolog(disable=True)
        off2 = _block(off_fn, block)
        tracekit.flush()
        added.append((on1 + on2 - off1 - off2) / 2)
        aa.append(off1 - off2)
        off_us.append((off1 + off2) / 2)
    integration.autolog()
    off = statistics.median(off_us)
    plus = statistics.median(added)
    return {
        "off_us": round(off, 1),
        "added_us": round(plus, 1),
        "ratio": round((off + plus) / off, 3),
        "aa_abs_us": round(statistics.median(abs(x) for x in aa), 1),
    }


def main() -> dict[str, Any]:
    p = argparse.ArgumentParser()
    p.add_argument("--providers", default="openai,anthropic,gemini")
    p.add_argument("--cycles", type=int, default=15)
    p.add_argument("--block", type=int, default=40)
    args = p.parse_args()
    return {name: measure(name, args.cycles, args.block) for name in args.providers.split(",")}


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
