"""The store writer process: ``python -m tracekit._store._writer STORE_PATH``.

Started by the app's export thread (``_writer_client``) when ``store_writer`` is
``process``. It reads batches of plain spans (:data:`_rows.PlainSpan`, pickled) from
its stdin, does what the app's interpreter would otherwise do under its GIL -- the
JSON encoding of attributes, events and resources, the trace summaries, SQLite --
and answers each batch on its stdout once it is committed (or with the error that
stopped it).

It exits when its stdin reaches end of file: the app closed it, exited or was killed.
Every batch that reached the pipe before that is still read and committed, so even a
SIGKILLed app keeps what it handed over. It ignores SIGINT and runs in its own
session: a Ctrl-C or a signal to the app's process group stops the app, whose exit
then ends the writer.

The protocol (all integers big-endian):

- start: one line ``tracekit-writer PROTOCOL PID`` once the store is open, or
  ``error MESSAGE`` and exit status 1;
- request: ``!IQ`` (payload length, sequence number) then the pickled list of spans;
- answer: ``!QI`` (the request's sequence number, payload length) then a pickled
  ``(error, places)``: ``error`` is ``None`` when the batch is committed, else
  ``(exception type name, errno, message, traceback text)``; ``places`` are the
  internal errors reported while encoding (``_errors.report`` places), for the app
  to report in its own process.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import traceback
from typing import Any

PROTOCOL = 1
REQUEST = struct.Struct("!IQ")
ANSWER = struct.Struct("!QI")


def read_exact(fd: int, size: int) -> bytes:
    """``size`` bytes from ``fd``, fewer only at end of file."""
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _error_of(exc: BaseException) -> tuple[str, int | None, str, str]:
    errno = getattr(exc, "errno", None)
    return (type(exc).__name__, errno if isinstance(errno, int) else None, str(exc), traceback.format_exc())


def serve(path: str, inp: int, out: int) -> int:
    """Write the batches read from ``inp`` to the store at ``path``; answer on ``out``."""
    from tracekit import _errors
    from tracekit._store._sqlite import SQLiteStore

    _errors.set_strict(False)  # an encoding error is reported back to the app, not raised here
    store = SQLiteStore(path)
    try:
        store.prepare()
    except Exception as exc:
        write_all(out, f"error {type(exc).__name__}: {exc}\n".encode("utf-8", "replace"))
        return 1
    write_all(out, f"tracekit-writer {PROTOCOL} {os.getpid()}\n".encode())
    answering = True
    while True:
        header = read_exact(inp, REQUEST.size)
        if len(header) < REQUEST.size:
            break  # end of file: the app closed the pipe, exited or was killed
        length, seq = REQUEST.unpack(header)
        payload = read_exact(inp, length)
        if len(payload) < length:
            break  # the app died while handing this batch over: it was never acknowledged
        before = dict(_errors.counts)
        error: Any = None
        try:
            store.write_spans(pickle.loads(payload))
        except Exception as exc:
            error = _error_of(exc)
        places = [p for p, n in _errors.counts.items() if n > before.get(p, 0)]
        if answering:
            answer = pickle.dumps((error, places), protocol=pickle.HIGHEST_PROTOCOL)
            try:
                write_all(out, ANSWER.pack(seq, len(answer)) + answer)
            except OSError:  # the app is gone: keep committing what is still in the pipe
                answering = False
    store.close()
    return 0


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if len(sys.argv) != 2:
        print("usage: python -m tracekit._store._writer STORE_PATH", file=sys.stderr)
        return 2
    # the protocol owns fds 0 and 1: a stray print must not corrupt it
    inp, out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)
    return serve(sys.argv[1], inp, out)


if __name__ == "__main__":
    sys.exit(main())
