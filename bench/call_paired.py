"""Process CPU that tracing adds to one call, real SDK, paired blocks, split by component.

The app of ``_apps.py`` (real SDK clients over the fake server's in-process transport)
makes one call; in ABBA cycles (off, on, on, off) of ``--block`` calls each "on" mode
runs twice, and the added cost is the median over cycles of CPU per call, on minus off.
Process CPU (all threads) includes a flush at the end of each block, so the export
thread's work is inside; thread CPU is the caller's alone; gen-0 collections are
counted per call; the wall ratio is the median call's on over off, per cycle.

Modes (``--modes``), to attribute the cost:

- ``full``: autolog, the default pipeline (local store)
- ``noprop``: ``propagate_context=False`` (no ``traceparent`` header sent)
- ``null``: the pipeline's exporters replaced by one that does nothing (queue and
  worker still run: what remains is the caller's work, the queue and the wake-ups)

    .venv/bin/python bench/call_paired.py [--providers openai --stream --cycles 10 --block 100]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TRACEKIT_HOME", tempfile.mkdtemp(prefix="tracekit-call-paired-"))

_collections = [0]


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _collections[0] += 1


class _NullExporter:
    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 0) -> bool:
        return True


def _block(fn: Callable[[], Any], n: int, flush: Callable[[], Any]) -> tuple[float, float, float, float]:
    gc0 = _collections[0]
    walls = []
    clock = time.perf_counter_ns
    p0, t0 = time.process_time_ns(), time.thread_time_ns()
    for _ in range(n):
        w = clock()
        fn()
        walls.append(clock() - w)
    flush()
    t1, p1 = time.thread_time_ns(), time.process_time_ns()
    return (p1 - p0) / n / 1e3, (t1 - t0) / n / 1e3, (_collections[0] - gc0) / n, statistics.median(walls) / 1e3


def measure(provider: str, stream: bool, modes: list[str], cycles: int, block: int) -> dict[str, Any]:
    from _apps import App

    import tracekit
    from tracekit import _tracer

    integration = getattr(tracekit, provider)
    app = App(provider)
    off_fn = app.call(stream=stream)
    integration.autolog()
    on_fn = app.call(stream=stream)
    for _ in range(block):
        on_fn()
    tracekit.flush()
    pipeline = _tracer.current_pipeline()
    assert pipeline is not None
    real = (pipeline._exporters, pipeline._counts, pipeline._self_counting)
    null = ([_NullExporter()], [type(pipeline._counts[0])()], [False])

    def setup(mode: str) -> None:
        import dataclasses

        from tracekit import _config

        current = _config.get()
        if current.propagate_context != (mode != "noprop"):
            # set directly: _config.update() would shut the pipeline down (a reconfiguration)
            _config._current = dataclasses.replace(current, propagate_context=mode != "noprop")
        pipeline._exporters, pipeline._counts, pipeline._self_counting = null if mode == "null" else real

    gc.callbacks.append(_on_gc)
    rows: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in modes}
    offs: list[tuple[float, float, float, float]] = []
    aa: list[float] = []
    flush = tracekit.flush
    for _ in range(cycles):
        app.clear()
        integration.autolog(disable=True)
        off1 = _block(off_fn, block, flush)
        integration.autolog()
        for mode in modes:
            setup(mode)
            a = _block(on_fn, block, flush)
            b = _block(on_fn, block, flush)
            rows[mode].append(tuple((x + y) / 2 for x, y in zip(a, b, strict=True)))  # type: ignore[arg-type]
        setup("full")
        integration.autolog(disable=True)
        off2 = _block(off_fn, block, flush)
        offs.append(tuple((x + y) / 2 for x, y in zip(off1, off2, strict=True)))  # type: ignore[arg-type]
        aa.append(abs(off1[0] - off2[0]))
    gc.callbacks.remove(_on_gc)
    integration.autolog()
    out: dict[str, Any] = {
        "off_process_us": round(statistics.median(o[0] for o in offs), 1),
        "off_thread_us": round(statistics.median(o[1] for o in offs), 1),
        "off_gc_per_call": round(statistics.median(o[2] for o in offs), 4),
        "off_wall_us": round(statistics.median(o[3] for o in offs), 1),
        "aa_abs_process_us": round(statistics.median(aa), 1),
    }
    for mode in modes:
        r = rows[mode]
        out[mode] = {
            "process_us": round(statistics.median(x[0] - o[0] for x, o in zip(r, offs, strict=True)), 1),
            "thread_us": round(statistics.median(x[1] - o[1] for x, o in zip(r, offs, strict=True)), 1),
            "gc_per_call": round(statistics.median(x[2] - o[2] for x, o in zip(r, offs, strict=True)), 4),
            "wall_ratio": round(statistics.median(x[3] / o[3] for x, o in zip(r, offs, strict=True)), 3),
        }
    return out


def main() -> dict[str, Any]:
    p = argparse.ArgumentParser()
    p.add_argument("--providers", default="openai,anthropic,gemini")
    p.add_argument("--modes", default="full,noprop,null")
    p.add_argument("--stream", action="store_true")
    p.add_argument("--cycles", type=int, default=10)
    p.add_argument("--block", type=int, default=100)
    args = p.parse_args()
    modes = args.modes.split(",")
    return {name: measure(name, args.stream, modes, args.cycles, args.block) for name in args.providers.split(",")}


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
