"""Parsing the CLI's time arguments: ISO timestamps or ages such as ``10m``."""

from __future__ import annotations

import re
import time
from datetime import datetime

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(text: str, *, now_ns: int | None = None) -> int:
    """Nanoseconds since the epoch for an ISO time or an age before now.

    A naive ISO time is local time, as shown by ``traces list``.

    >>> parse_time("90s", now_ns=100 * 10**9) // 10**9
    10
    >>> parse_time("1970-01-01T00:00:10+00:00") // 10**9
    10
    """
    value = text.strip()
    age = _AGE.fullmatch(value.lower())
    if age:
        now = time.time_ns() if now_ns is None else now_ns
        return now - int(float(age.group(1)) * _SECONDS[age.group(2)] * 1e9)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO time (2024-05-01T12:00) nor an age (30s, 10m, 2h, 1d, 1w)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # interpret as local time
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
