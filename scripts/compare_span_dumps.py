"""Compare two span dumps written with TK_SPAN_DUMP (see tests/_span_dump.py).

Prints each test whose spans differ, and exits 1 if any does; 0 when the dumps match.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _span_dump import scrub, stable  # the same filter the dump applies


def _refilter(dump: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    # a dump written under an older filter: drop what today's filter drops
    for spans in dump.values():
        for span in spans:
            span["attributes"] = stable(span["attributes"])
            span["status_description"] = scrub(span["status_description"])
            for event in span["events"]:
                event["attributes"] = stable(event["attributes"])
        # spans of concurrent calls end in any order: compare them as a multiset
        spans.sort(key=lambda span: json.dumps(span, sort_keys=True))
    return dump


def main(before_path: str, after_path: str) -> int:
    with open(before_path, encoding="utf-8") as f:
        before = _refilter(json.load(f))
    with open(after_path, encoding="utf-8") as f:
        after = _refilter(json.load(f))
    differ = only_after = 0
    for node in sorted(set(before) | set(after)):
        if node not in after:
            print(f"only before: {node}")
            differ += 1
        elif node not in before:
            only_after += 1  # a test that the before run did not include (or a new one)
        elif before[node] != after[node]:
            differ += 1
            print(f"differs: {node}")
            for i, (a, b) in enumerate(zip(before[node], after[node], strict=False)):
                if a != b:
                    print(f"  span {i} before: {json.dumps(a, sort_keys=True)[:400]}")
                    print(f"  span {i} after:  {json.dumps(b, sort_keys=True)[:400]}")
                    break
            if len(before[node]) != len(after[node]):
                print(f"  span count {len(before[node])} -> {len(after[node])}")
    spans = sum(len(v) for v in before.values())
    print(f"{len(before)} tests ({spans} spans) before, {len(after)} after ({only_after} only after), {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
