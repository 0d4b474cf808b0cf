"""What ``tracekit proxy`` adds to a call: time to first byte and total, proxy vs direct.

The fake LLM server runs in this process; ``python -m tracekit proxy`` runs as a
subprocess in front of it, recording to a throwaway local store (the real default
pipeline). Calls alternate direct / through the proxy, one at a time, over one
keep-alive connection each, so both sides see the same machine load; the report
gives medians and p90 side by side and the median difference. Bodies are OpenAI chat
completions (the other protocols take the same path through the proxy): a
non-streamed answer, and a 20-chunk SSE stream.

    .venv/bin/python bench/proxy_latency.py               # 300 calls per case, prints a table and JSON
    .venv/bin/python bench/proxy_latency.py --calls 50    # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import httpx2  # noqa: E402

from tracekit.testing import FakeLLMServer  # noqa: E402

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello in twenty words."}]}
CASES = {"json": BODY, "stream": {**BODY, "stream": True, "stream_options": {"include_usage": True}}}


def start_proxy(upstream: str, store: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env.update({"PYTHONPATH": ROOT, "TRACEKIT_TRACKING_URI": f"sqlite:///{store}", "NO_PROXY": "127.0.0.1"})
    process = subprocess.Popen(
        [sys.executable, "-m", "tracekit", "proxy", "--upstream", upstream, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    match = re.search(r"listening on (http://\S+) ->", process.stdout.readline())
    if match is None:
        process.kill()
        raise SystemExit("the proxy did not start")
    return process, match.group(1)


def one_call(client: httpx2.Client, url: str, body: dict[str, Any]) -> tuple[float, float]:
    """(time to first body byte, total) in milliseconds."""
    start = time.perf_counter()
    first = None
    with client.stream("POST", url, json=body) as response:
        for _ in response.iter_raw():
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return ((first or end) - start) * 1000, (end - start) * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): the proxy's own work per
    call, which machine load does not inflate the way it inflates wall time."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 3), "p90": round(ordered[int(len(ordered) * 0.9) - 1], 3)}


def measure(calls: int, warmup: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with FakeLLMServer() as server, tempfile.TemporaryDirectory() as tmp:
        process, proxy_url = start_proxy(server.url, os.path.join(tmp, "traces.db"))
        try:
            targets = {"direct": server.url, "proxy": proxy_url}
            with httpx2.Client(timeout=60) as direct_client, httpx2.Client(timeout=60) as proxy_client:
                clients = {"direct": direct_client, "proxy": proxy_client}
                for case, body in CASES.items():
                    samples: dict[str, dict[str, list[float]]] = {k: {"ttfb": [], "total": []} for k in targets}
                    cpu_start = 0.0
                    for i in range(warmup + calls):
                        if i == warmup:
                            cpu_start = cpu_seconds(process.pid)
                        for side in ("direct", "proxy") if i % 2 == 0 else ("proxy", "direct"):
                            ttfb, total = one_call(clients[side], targets[side] + "/v1/chat/completions", body)
                            if i >= warmup:
                                samples[side]["ttfb"].append(ttfb)
                                samples[side]["total"].append(total)
                    row: dict[str, Any] = {}
                    for metric in ("ttfb", "total"):
                        direct, proxied = summary(samples["direct"][metric]), summary(samples["proxy"][metric])
                        row[metric] = {
                            "direct": direct,
                            "proxy": proxied,
                            "added_median_ms": round(proxied["median"] - direct["median"], 3),
                        }
                    row["proxy_cpu_ms_per_call"] = round((cpu_seconds(process.pid) - cpu_start) * 1000 / calls, 3)
                    results[case] = row
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="measured calls per case and side (default 300)")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    results = measure(args.calls, args.warmup)
    print(f"{'case':8} {'metric':6} {'direct median':>14} {'proxy median':>13} {'added':>8} {'direct p90':>11} {'proxy p90':>10}")
    for case, row in results.items():
        print(f"{case:8} proxy CPU per call: {row['proxy_cpu_ms_per_call']:.2f} ms")
        for metric in ("ttfb", "total"):
            values = row[metric]
            d, p = values["direct"], values["proxy"]
            print(
                f"{case:8} {metric:6} {d['median']:>11.2f} ms {p['median']:>10.2f} ms {values['added_median_ms']:>5.2f} ms"
                f" {d['p90']:>8.2f} ms {p['p90']:>7.2f} ms"
            )
    print(json.dumps({"calls": args.calls, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
