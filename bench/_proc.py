"""Another process's CPU time, for the benches that measure the store writer process."""

from __future__ import annotations

import os


def proc_cpu_s(pid: int | None) -> float:
    """A process's user + system CPU seconds (Linux /proc; 0 without a pid)."""
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
