"""One benchmark subprocess: one variant, one provider, one mode. Run by bench/run.py
with the variant's own virtualenv's Python; writes its figures as JSON to ``--out``.

Modes:
  latency   scenarios one after another (per-call wall times, process CPU per call
            including a flush of the background export at the end of each scenario)
  paired    tracing off and on in alternating blocks (ABBA) in this one process,
            with an A/A comparison of the two "off" blocks of each cycle as noise floor
  rss       resident memory over many calls (steady growth per call)
  export    as many nested calls as possible, then flush: spans/s delivered
  autolog   the time of the variant's setup() with the SDK already imported
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "variants")]

from _apps import App  # noqa: E402

NS = 1e-3  # ns -> µs


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def summarize(times_ns: list[int]) -> dict[str, float]:
    us = [t * NS for t in times_ns]
    return {"median_us": statistics.median(us), "p99_us": percentile(us, 99), "mean_us": statistics.fmean(us), "n": len(us)}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        import importlib

        self.args = args
        self.variant = importlib.import_module(args.variant)
        self.provider = args.provider
        self.expected_spans = 0
        self.expected_traces = 0
        self.setup_s = 0.0
        self.app: App | None = None
        self.available = True  # known after setup(): asking imports the provider module

    def check_available(self) -> None:
        available = getattr(self.variant, "available", None)
        self.available = available(self.provider) if available else True

    # --- call builders ---------------------------------------------------------------
    def setup(self) -> None:
        t = time.perf_counter()
        self.variant.setup(self.provider, self.args.workdir)
        self.setup_s = time.perf_counter() - t
        self.check_available()
        self.app = App(self.provider, self.args.http_url or None)

    def fn(self, scenario: str, traced: bool = True) -> Callable[[], Any]:
        assert self.app is not None
        stream = "stream" in scenario
        call = self.app.call(stream, http=scenario.startswith("http"))
        if not scenario.startswith("nested"):
            return call

        def bench_parent(question: str = "hello") -> str:
            return call()

        return self.variant.parent(bench_parent) if traced else bench_parent

    def count(self, scenario: str, n: int) -> None:
        self.expected_traces += n
        # a provider that tracekit does not instrument yet: only the parent spans
        self.expected_spans += n * ((1 if scenario.startswith("nested") else 0) + (1 if self.available else 0))

    # --- latency ------------------------------------------------------------------------
    def run_scenario(self, scenario: str, n: int, warmup: int) -> dict[str, Any]:
        assert self.app is not None
        if scenario == "threads":
            return self.run_threads(n)
        if scenario == "tasks":
            return self.run_tasks(n)
        fn = self.fn(scenario)
        for _ in range(warmup):
            fn()
        self.count(scenario, warmup)
        self.variant.flush()
        self.app.clear()
        gc.collect()
        times = []
        clock = time.perf_counter_ns
        cpu0 = time.process_time_ns()
        wall0 = clock()
        for _ in range(n):
            t0 = clock()
            fn()
            times.append(clock() - t0)
        wall = clock() - wall0
        self.variant.flush()  # the background export of these calls is part of their cost
        cpu = time.process_time_ns() - cpu0
        self.count(scenario, n)
        self.app.clear()
        return {**summarize(times), "cpu_us": cpu / n * NS, "wall_us": wall / n * NS}

    def run_threads(self, n: int, threads: int = 8) -> dict[str, Any]:
        assert self.app is not None
        fn = self.fn("plain")
        per = max(1, n // threads)
        for _ in range(20):
            fn()
        self.count("plain", 20)
        barrier = threading.Barrier(threads + 1)
        errors: list[BaseException] = []

        def worker() -> None:
            barrier.wait()
            try:
                for _ in range(per):
                    fn()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        cpu0 = time.process_time_ns()
        barrier.wait()
        t0 = time.perf_counter()
        for t in pool:
            t.join()
        wall = time.perf_counter() - t0
        self.variant.flush()
        cpu = time.process_time_ns() - cpu0
        if errors:
            raise errors[0]
        total = per * threads
        self.count("plain", total)
        self.app.clear()
        return {"calls_per_s": total / wall, "n": total, "cpu_us": cpu / total * NS}

    def run_tasks(self, n: int, tasks: int = 64) -> dict[str, Any]:
        assert self.app is not None
        acall = self.app.acall(False)
        per = max(1, n // tasks)

        async def main() -> float:
            await asyncio.gather(*(acall() for _ in range(tasks)))  # warm-up

            async def worker() -> None:
                for _ in range(per):
                    await acall()

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(tasks)))
            return time.perf_counter() - t0

        cpu0 = time.process_time_ns()
        wall = asyncio.run(main())
        self.variant.flush()
        cpu = time.process_time_ns() - cpu0
        total = per * tasks
        self.count("plain", total + tasks)
        self.app.clear()
        return {"calls_per_s": total / wall, "n": total, "cpu_us": cpu / total * NS}

    def latency(self) -> dict[str, Any]:
        results = {}
        for scenario in self.args.scenarios.split(","):
            if scenario.startswith("http") and not self.args.http_url:
                continue
            results[scenario] = self.run_scenario(scenario, self.args.calls, self.args.warmup)
        return {"scenarios": results}

    # --- paired on/off ------------------------------------------------------------------
    def block(self, fn: Callable[[], Any], n: int) -> dict[str, float]:
        assert self.app is not None
        self.app.clear()
        times = []
        clock = time.perf_counter_ns
        cpu0 = time.process_time_ns()
        for _ in range(n):
            t0 = clock()
            fn()
            times.append(clock() - t0)
        self.variant.flush()
        cpu = time.process_time_ns() - cpu0
        return {"median_us": statistics.median(times) * NS, "cpu_us": cpu / n * NS}

    def paired(self) -> dict[str, Any]:
        results = {}
        block, cycles = self.args.calls, self.args.cycles
        for scenario in self.args.scenarios.split(","):
            on, off = self.fn(scenario, traced=True), self.fn(scenario, traced=False)
            for _ in range(self.args.warmup):
                on()
            self.count(scenario, self.args.warmup)
            self.variant.disable(self.provider)
            for _ in range(self.args.warmup):
                off()
            rows = []
            for _ in range(cycles):
                # ABBA (off, on, on, off) cancels a linear drift within the cycle; the
                # two "off" blocks give the A/A noise floor of the same cycle
                off1 = self.block(off, block)
                self.variant.enable(self.provider)
                on1 = self.block(on, block)
                on2 = self.block(on, block)
                self.count(scenario, 2 * block)
                self.variant.disable(self.provider)
                off2 = self.block(off, block)
                rows.append({"off1": off1, "on1": on1, "on2": on2, "off2": off2})
            self.variant.enable(self.provider)

            def diff(key: str, a: tuple[str, ...], b: tuple[str, ...], rows: list[dict[str, Any]] = rows) -> list[float]:
                return [statistics.fmean(r[x][key] for x in a) - statistics.fmean(r[x][key] for x in b) for r in rows]

            results[scenario] = {
                "off_median_us": statistics.median(
                    statistics.fmean((r["off1"]["median_us"], r["off2"]["median_us"])) for r in rows
                ),
                "on_median_us": statistics.median(statistics.fmean((r["on1"]["median_us"], r["on2"]["median_us"])) for r in rows),
                "added_us": statistics.median(diff("median_us", ("on1", "on2"), ("off1", "off2"))),
                "aa_us": statistics.median(diff("median_us", ("off1",), ("off2",))),
                "aa_abs_us": statistics.median(abs(x) for x in diff("median_us", ("off1",), ("off2",))),
                "added_cpu_us": statistics.median(diff("cpu_us", ("on1", "on2"), ("off1", "off2"))),
                "aa_cpu_us": statistics.median(diff("cpu_us", ("off1",), ("off2",))),
                "aa_abs_cpu_us": statistics.median(abs(x) for x in diff("cpu_us", ("off1",), ("off2",))),
                "off_cpu_us": statistics.median(statistics.fmean((r["off1"]["cpu_us"], r["off2"]["cpu_us"])) for r in rows),
                "cycles": cycles,
                "block": block,
            }
        return {"scenarios": results}

    # --- memory -------------------------------------------------------------------------
    def rss(self) -> dict[str, Any]:
        assert self.app is not None
        fn = self.fn("plain")
        n, every = self.args.calls, max(1000, self.args.calls // 50)
        samples = []
        rss0 = _rss()
        for i in range(1, n + 1):
            fn()
            if i % 1000 == 0:
                self.app.clear()
            if i % every == 0:
                samples.append((i, _rss()))
        self.count("plain", n)
        self.variant.flush()
        gc.collect()
        # steady growth: least-squares slope over the second half (after warm-up effects)
        tail = samples[len(samples) // 2 :]
        xs, ys = [s[0] for s in tail], [s[1] for s in tail]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / max(sum((x - mx) ** 2 for x in xs), 1)
        return {
            "calls": n,
            "rss_start_mb": rss0 / 2**20,
            "rss_end_mb": _rss() / 2**20,
            "rss_peak_mb": _peak_rss() / 2**20,
            "growth_bytes_per_call": slope,
            "samples": samples,
        }

    # --- export throughput ---------------------------------------------------------------
    def export(self) -> dict[str, Any]:
        fn = self.fn("nested")
        n = self.args.calls
        for _ in range(self.args.warmup):
            fn()
        self.count("nested", self.args.warmup)
        self.variant.flush()
        t0 = time.perf_counter()
        cpu0 = time.process_time_ns()
        for _ in range(n):
            fn()
        produced = time.perf_counter() - t0
        proof = self.variant.proof()  # flushes, then reads back from the server
        total = time.perf_counter() - t0
        self.count("nested", n)
        return {
            "calls": n,
            "spans": 2 * n,
            "produce_s": produced,
            "deliver_s": total,
            "spans_per_s": 2 * n / total,
            "cpu_us_per_call": (time.process_time_ns() - cpu0) / n * NS,
            "proof_inline": proof,
        }

    def autolog(self) -> dict[str, Any]:
        App(self.provider)  # imports the SDK first, as an app would
        out = {}
        prepare = getattr(self.variant, "prepare", None)
        if prepare is not None:  # tracekit: `tracekit.openai` is a module to import first
            t0 = time.perf_counter()
            prepare(self.provider)
            out["import_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        self.variant.setup(self.provider, self.args.workdir)
        out["autolog_ms"] = (time.perf_counter() - t0) * 1e3
        self.check_available()
        return out


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--variant", required=True)
    p.add_argument("--provider", required=True)
    p.add_argument("--mode", required=True)
    p.add_argument("--scenarios", default="plain")
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--cycles", type=int, default=8)
    p.add_argument("--http-url", default="")
    p.add_argument("--workdir", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    out: dict[str, Any] = {"variant": args.variant, "provider": args.provider, "mode": args.mode}
    try:
        bench = Bench(args)
        if args.mode == "autolog":
            out.update(bench.autolog())
        else:
            bench.setup()
            out["setup_ms"] = bench.setup_s * 1e3
            out.update(getattr(bench, args.mode)())
            if args.mode != "export":
                out["proof"] = bench.variant.proof()
            else:
                out["proof"] = out.pop("proof_inline")
            out["expected_spans"] = bench.expected_spans
            out["expected_traces"] = bench.expected_traces
        out["instrumented"] = bench.available
        out["ok"] = True
    except BaseException:
        out["ok"] = False
        out["error"] = traceback.format_exc()
    with open(args.out, "w") as f:
        json.dump(out, f)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
