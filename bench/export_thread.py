"""The export thread's CPU per span in the real pipeline, split by stage.

The SDK is stubbed as in ``core_micro.py`` (a canned ``ChatCompletion``); each call is an
OpenAI chat span under a ``@tracekit.trace`` parent, exported by the default pipeline to
a scratch local store. Stages are timed with the worker thread's CPU clock: pricing
(``_cost.price_spans``), encoding the rows (``_store._sqlite._encode_batch``) and the
whole ``Pipeline._export`` (the rest is SQLite: inserts, summary rows, commit). Only
the worker's batches count: spans the app's thread wrote itself under back-pressure (a
busy machine) are left out of ``spans``.

With ``--store-writer process`` the store writer process encodes and writes; the
figures then add the app process's CPU per span (all its threads) and the writer
process's (CPU moved, not removed). ``bench/store_writer_ab.py`` runs both, interleaved.

    .venv/bin/python bench/export_thread.py [--calls 4000] [--store-writer thread|process]     # prints JSON
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

from _proc import proc_cpu_s

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TRACEKIT_HOME", tempfile.mkdtemp(prefix="tracekit-export-"))


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--store-writer", choices=("thread", "process"), default=None)
    args = parser.parse_args()
    if args.store_writer:
        os.environ["TRACEKIT_STORE_WRITER"] = args.store_writer

    import wrapt
    from _apps import MESSAGES, App

    import tracekit
    from tracekit import _cost, _llm, _pipeline
    from tracekit._providers.openai._patches import ChatEndpoint
    from tracekit._store import _sqlite

    app = App("openai")
    canned = app.client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    resource = app.client.chat.completions

    def sdk(*a: Any, **k: Any) -> Any:
        return canned

    bound = wrapt.FunctionWrapper(sdk, _llm._sync_wrapper(ChatEndpoint(), None)).__get__(resource, type(resource))

    @tracekit.trace(name="bench_parent")
    def nested(question: str = "hello") -> Any:
        return bound(model="gpt-4o-mini", messages=MESSAGES)

    acc = {"price": 0, "encode": 0, "export": 0, "spans": 0, "batches": 0}
    price, encode, export = _cost.price_spans, _sqlite._encode_batch, _pipeline.Pipeline._export

    def timed_price(spans: Any) -> None:
        t = time.thread_time_ns()
        price(spans)
        acc["price"] += time.thread_time_ns() - t

    def timed_encode(spans: Any) -> Any:
        t = time.thread_time_ns()
        out = encode(spans)
        acc["encode"] += time.thread_time_ns() - t
        return out

    def timed_export(self: Any, batch: Any) -> None:
        t = time.thread_time_ns()
        export(self, batch)
        acc["export"] += time.thread_time_ns() - t
        acc["spans"] += len(batch)
        acc["batches"] += 1

    _cost.price_spans = timed_price  # type: ignore[assignment]
    _sqlite._encode_batch = timed_encode  # type: ignore[assignment]
    _pipeline.Pipeline._export = timed_export  # type: ignore[method-assign]
    for _ in range(300):  # warm-up: schema, first batches
        nested()
    tracekit.flush()
    from tracekit import _tracer

    pipeline = _tracer.current_pipeline()
    writer = getattr(pipeline.exporters[0], "writer", None) if pipeline is not None else None
    for _ in range(200):  # the writer process starts at the second batch: wait for its handshake
        if writer is None or writer.ready or writer.off_reason:
            break
        nested()
        tracekit.flush()
        time.sleep(0.05)
    acc.update(dict.fromkeys(acc, 0))
    writer_pid = writer.writer_pid if writer is not None else None
    writer_cpu = proc_cpu_s(writer_pid)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.calls):
        nested()
    tracekit.flush()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    writer_cpu = proc_cpu_s(writer_pid) - writer_cpu
    n = acc["spans"]
    out: dict[str, Any] = {"spans": n, "batches": acc["batches"]}
    for key in ("price", "encode", "export"):
        out[f"{key}_us_per_span"] = round(acc[key] / n / 1e3, 1)
    rest = out["export_us_per_span"] - out["price_us_per_span"] - out["encode_us_per_span"]
    out["sqlite_and_rest_us_per_span"] = round(rest, 1)
    total = args.calls * 2
    out["store_writer"] = "process" if writer_pid else "thread"
    out["app_process_cpu_us_per_span"] = round(cpu / total * 1e6, 1)
    out["writer_process_cpu_us_per_span"] = round(writer_cpu / total * 1e6, 1)
    out["wall_us_per_span"] = round(wall / total * 1e6, 1)
    out["rss_mb"] = round(_rss_mb(), 1)
    return out


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
