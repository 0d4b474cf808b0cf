"""The on-disk outbox: OTLP request bodies that could not be delivered yet.

Layout, under ``$TRACEKIT_OUTBOX_DIR`` (default ``<tracekit home>/outbox``)::

    outbox/<key>/destination.json      where these batches go (credentials redacted)
    outbox/<key>/status.json           last errors and the last run's counts
    outbox/<key>/<ns>-<pid>-<n>.otlp   one gzipped OTLP request each, after a JSON header line
                                       (the header may hold ``finish``: the trace records to
                                       send once the body is delivered; an empty body then
                                       means "only those records are left to send")
    outbox/<key>/rejected/*.otlp       batches the server refused, with the reason

Entries are written to a temporary name and renamed, so a reader never sees half a
file. A sender *claims* an entry by renaming it (atomic: two processes never send
the same file at once), deletes it once delivered and renames it back otherwise; a
claim left by a process that died is released by the next scan. Resending is safe
even if a claim is lost: the server upserts spans by (trace id, span id).

The total size is bounded by ``$TRACEKIT_OUTBOX_MAX_BYTES`` (default 256 MiB): a
batch that does not fit is refused, and the caller counts and logs the drop.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from tracekit._redact import redact_json, redact_text

__all__ = ["Entry", "Outbox", "OutboxStats", "default_max_bytes", "default_root", "destinations"]

DEFAULT_MAX_BYTES: Final = 256 * 1024 * 1024
SUFFIX: Final = ".otlp"
CLAIM: Final = ".claimed-"
REJECTED: Final = "rejected"
#: identifies this process's entries, so that their resend counts as delivered here
PROCESS_TOKEN: Final = uuid.uuid4().hex
_seq = itertools.count()


def default_root() -> Path:
    """``$TRACEKIT_OUTBOX_DIR``, else ``<tracekit home>/outbox``."""
    from tracekit._config import home

    configured = os.environ.get("TRACEKIT_OUTBOX_DIR")
    return Path(configured).expanduser() if configured else home() / "outbox"


def default_max_bytes() -> int:
    """``$TRACEKIT_OUTBOX_MAX_BYTES`` (whole bytes), default 256 MiB.

    Never raises: the configuration check (``tracekit._config``) reports a bad value --
    it turns tracing off and ``tracekit status`` names it -- so here it means the default.
    """
    from tracekit._config import outbox_max_bytes
    from tracekit._errors import ConfigError

    try:
        value = outbox_max_bytes(os.environ)
    except ConfigError:
        return DEFAULT_MAX_BYTES
    return DEFAULT_MAX_BYTES if value is None else value


def destination_key(destination: Mapping[str, Any]) -> str:
    """A short stable directory name for a destination description."""
    text = json.dumps(dict(destination), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One stored batch: its file (claimed or not) and its header."""

    path: Path
    spans: int
    created: float
    owner: str
    reason: str | None = None
    #: trace records (exporter-specific JSON) to send after the body is delivered
    finish: tuple[dict[str, Any], ...] = ()

    @property
    def mine(self) -> bool:
        """Written by this process."""
        return self.owner == PROCESS_TOKEN


@dataclasses.dataclass(frozen=True)
class OutboxStats:
    files: int = 0
    spans: int = 0
    bytes: int = 0
    rejected_files: int = 0
    rejected_spans: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _read_header(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            line = f.readline(64 * 1024)
        header = json.loads(line)
    except (OSError, ValueError):
        return None
    return header if isinstance(header, dict) else None


class Outbox:
    """The outbox directory of one destination (thread-safe, multi-process safe).

    >>> import tempfile
    >>> box = Outbox(Path(tempfile.mkdtemp()), {"kind": "otlp", "endpoint": "http://x/v1/traces"})
    >>> box.put(b"body", spans=3)
    True
    >>> box.stats().spans
    3
    """

    def __init__(self, root: Path, destination: Mapping[str, Any], max_bytes: int | None = None) -> None:
        self.root = root
        # credentials in a URI never reach the disk: every file written here is redacted,
        # and the key (the directory name) is derived from the redacted description too
        self.destination: dict[str, Any] = redact_json(dict(destination))
        self.key = destination_key(self.destination)
        self.dir = root / self.key
        self.max_bytes = default_max_bytes() if max_bytes is None else max_bytes
        self._lock = threading.Lock()
        self._size: int | None = None  # bytes in the whole outbox root, rescanned now and then
        self._scanned = 0.0
        self._maybe_nonempty = True  # until a scan says otherwise
        self._puts = 0  # a scan that raced with a put must not clear _maybe_nonempty

    # --- writing ---------------------------------------------------------------------
    def _ensure_dir(self, path: Path) -> None:
        if path.is_dir():
            return
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        description = self.dir / "destination.json"
        if not description.exists():
            _atomic_write(description, json.dumps(self.destination, indent=2, sort_keys=True).encode())

    def _total_size(self) -> int:
        now = time.monotonic()
        if self._size is None or now - self._scanned > 5.0:
            total = 0
            if self.root.is_dir():
                for dirpath, _dirs, files in os.walk(self.root):
                    for name in files:
                        try:
                            total += os.stat(os.path.join(dirpath, name)).st_size
                        except OSError:
                            pass
            self._size, self._scanned = total, now
        return self._size

    def put(
        self,
        body: bytes,
        spans: int,
        *,
        reason: str | None = None,
        rejected: bool = False,
        finish: Sequence[Mapping[str, Any]] = (),
    ) -> bool:
        """Store one gzipped OTLP body (and the trace records to send after it);
        False when the outbox is full or unwritable."""
        header: dict[str, Any] = {
            "spans": spans,
            "created": time.time(),
            "owner": PROCESS_TOKEN,
            "reason": reason and redact_text(reason),
        }
        if finish:
            header["finish"] = [dict(f) for f in finish]
        data = json.dumps(header).encode() + b"\n" + body
        target_dir = self.dir / REJECTED if rejected else self.dir
        with self._lock:
            if self._total_size() + len(data) > self.max_bytes:
                return False
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(_seq):06d}{SUFFIX}"
            try:
                self._ensure_dir(target_dir)
                _atomic_write(target_dir / name, data)
            except OSError:
                return False
            self._size = (self._size or 0) + len(data)
            if not rejected:
                self._puts += 1
                self._maybe_nonempty = True
        return True

    # --- reading and claiming ---------------------------------------------------------
    def _entries(self, directory: Path) -> Iterator[Path]:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            path = directory / name
            if name.endswith(SUFFIX):
                yield path
            elif CLAIM in name:
                # a claim whose process died goes back into the queue
                try:
                    pid = int(name.rsplit(CLAIM, 1)[1])
                except ValueError:
                    continue
                if not _pid_alive(pid):
                    original = directory / name.rsplit(CLAIM, 1)[0]
                    try:
                        os.rename(path, original)
                    except OSError:
                        continue
                    yield original

    def has_entries(self) -> bool:
        """Cheap check: is anything waiting to be sent (as far as this process knows)?"""
        if not self._maybe_nonempty:
            return False
        puts = self._puts
        for _ in self._entries(self.dir):
            return True
        if puts == self._puts:
            self._maybe_nonempty = False
        return False

    def mark_maybe_nonempty(self) -> None:
        """Another process may have written entries: look again on the next check."""
        self._maybe_nonempty = True

    def claim_next(self) -> Entry | None:
        """Claim the oldest waiting entry (renamed so no other sender takes it)."""
        puts = self._puts
        for path in self._entries(self.dir):
            claimed = path.with_name(f"{path.name}{CLAIM}{os.getpid()}")
            try:
                os.rename(path, claimed)
            except OSError:
                continue  # another sender was faster
            header = _read_header(claimed)
            if header is None:
                # unreadable: set it aside rather than loop on it
                self._move_rejected(claimed, path.name)
                continue
            return Entry(
                claimed,
                int(header.get("spans", 0)),
                float(header.get("created", 0.0)),
                str(header.get("owner", "")),
                header.get("reason"),
                _finish_of(header),
            )
        if puts == self._puts:
            self._maybe_nonempty = False
        return None

    def read_body(self, entry: Entry) -> bytes:
        """The gzipped OTLP body of an entry."""
        data = entry.path.read_bytes()
        return data[data.index(b"\n") + 1 :]

    def done(self, entry: Entry) -> None:
        """The entry was delivered: delete it."""
        try:
            size = entry.path.stat().st_size
            entry.path.unlink()
        except OSError:
            return
        with self._lock:
            if self._size is not None:
                self._size = max(self._size - size, 0)

    def release(self, entry: Entry) -> None:
        """Not delivered this time: put the entry back for a later attempt."""
        original = entry.path.with_name(entry.path.name.split(CLAIM, 1)[0])
        try:
            os.rename(entry.path, original)
        except OSError:
            pass
        self._maybe_nonempty = True

    def reject(self, entry: Entry, reason: str) -> None:
        """The server refused the entry for good: move it under ``rejected/`` with the reason."""
        try:
            data = entry.path.read_bytes()
            body = data[data.index(b"\n") + 1 :]
            header = _read_header(entry.path) or {}
        except (OSError, ValueError):
            return
        header["reason"] = redact_text(reason)
        try:
            self._ensure_dir(self.dir / REJECTED)
            name = entry.path.name.split(CLAIM, 1)[0]
            _atomic_write(self.dir / REJECTED / name, json.dumps(header).encode() + b"\n" + body)
            entry.path.unlink()
        except OSError:
            pass

    def _move_rejected(self, path: Path, name: str) -> None:
        try:
            self._ensure_dir(self.dir / REJECTED)
            os.rename(path, self.dir / REJECTED / name)
        except OSError:
            pass

    def requeue_rejected(self) -> int:
        """Move every rejected entry back into the queue (``tracekit sync --rejected``)."""
        moved = 0
        for path in self._entries(self.dir / REJECTED):
            try:
                os.rename(path, self.dir / path.name)
                moved += 1
            except OSError:
                continue
        if moved:
            self._maybe_nonempty = True
        return moved

    def rejected(self) -> list[Entry]:
        """The set-aside entries with their reasons, oldest first."""
        out = []
        for path in self._entries(self.dir / REJECTED):
            header = _read_header(path) or {}
            out.append(
                Entry(
                    path,
                    int(header.get("spans", 0)),
                    float(header.get("created", 0.0)),
                    str(header.get("owner", "")),
                    header.get("reason"),
                )
            )
        return out

    def stats(self) -> OutboxStats:
        """Count what waits (and what was set aside) for this destination."""
        files = spans = size = 0
        for path in self._entries(self.dir):
            header = _read_header(path) or {}
            files += 1
            spans += int(header.get("spans", 0))
            try:
                size += path.stat().st_size
            except OSError:
                pass
        rejected = self.rejected()
        return OutboxStats(files, spans, size, len(rejected), sum(e.spans for e in rejected))

    # --- status: the last errors and the last run's counts, for `tracekit status` ------
    def read_status(self) -> dict[str, Any]:
        try:
            data = json.loads((self.dir / "status.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_status(self, **fields: Any) -> None:
        """Merge ``fields`` into ``status.json`` (best effort: status is informative only)."""
        with self._lock:
            status = self.read_status()
            status.update(redact_json(fields))
            status["updated"] = time.time()
            try:
                self._ensure_dir(self.dir)
                _atomic_write(self.dir / "status.json", json.dumps(status, indent=2).encode())
            except OSError:
                pass


def _finish_of(header: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    finish = header.get("finish")
    return tuple(f for f in finish if isinstance(f, dict)) if isinstance(finish, list) else ()


def destinations(root: Path | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Every destination directory in the outbox with its description."""
    base = default_root() if root is None else root
    found = []
    try:
        children = sorted(base.iterdir())
    except OSError:
        return []
    for child in children:
        try:
            description = json.loads((child / "destination.json").read_text())
        except (OSError, ValueError):
            continue
        if isinstance(description, dict):
            found.append((child, description))
    return found


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
