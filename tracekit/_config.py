"""Configuration: one resolved, immutable :class:`Settings`.

Precedence, highest first: an explicit call (:func:`tracekit.configure`,
:func:`tracekit.set_tracking_uri`, :func:`tracekit.set_experiment`) >
``TRACEKIT_*`` environment > ``MLFLOW_TRACKING_URI`` / ``MLFLOW_EXPERIMENT_NAME`` /
``MLFLOW_EXPERIMENT_ID`` > defaults.

Explicit calls (those above and ``autolog()``) validate everything, the environment
included, and raise :class:`ConfigError` naming each bad value and the accepted forms.
The settings the app's own calls read (:func:`get`) never raise: a bad environment is
logged once (one ERROR line) and tracing is off until it is fixed; :func:`diagnose`
tells ``tracekit status`` why. An unknown ``TRACEKIT_*`` variable is only a warning.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from tracekit import _redact
from tracekit._errors import ConfigError

logger = logging.getLogger("tracekit")

#: masking hook: called with (attribute key, the whole inputs/outputs in their JSON shape),
#: returns the value to record (see tracekit._mask for the contract)
Mask = Callable[[str, Any], Any]

URI_FORMS: Final = "sqlite:///PATH (local store), http://HOST:PORT or https://HOST[:PORT] (MLflow tracking server)"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The resolved configuration. Read it with :func:`tracekit.get_settings`."""

    enabled: bool = True
    tracking_uri: str = ""  # resolved in resolve(): never empty there
    experiment_name: str | None = None
    experiment_id: str | None = None
    sample_rate: float = 1.0
    capture_content: bool = True
    propagate_context: bool = True  # send W3C traceparent with every traced SDK call
    max_attribute_length: int = 1_000_000
    max_queue_size: int = 4096
    #: the queue also counts its spans' approximate size: full at this many bytes
    #: (the inputs/outputs texts plus a fixed overhead per span), whichever comes first
    max_queue_bytes: int = 8 * 1024 * 1024
    export_batch_size: int = 512
    export_interval: float = 0.5
    exit_timeout: float = 5.0
    export_timeout: float = 30.0  # seconds per HTTP request (a cold MLflow server may take ~15 s)
    export_retry_budget: float = 15.0  # seconds a batch may spend in retries before it goes to the outbox
    service_name: str = "tracekit"
    mask: Mask | None = None
    #: @trace arguments recorded as "[REDACTED]": True (the built-in secret-name rule),
    #: False (none), or extra names/glob patterns on top of the built-in rule
    redact_arguments: bool | tuple[str, ...] = True
    propagate_threads: bool = True  # ThreadPoolExecutor work nests under the submitting span
    #: the local store's size cap in MB: past it, the oldest traces are pruned in the
    #: background (None: no cap)
    store_max_mb: float | None = None
    # --- the local store's writer (issue 16) -----------------------------------------
    #: "process": a store writer process encodes and commits the spans (the app's
    #: interpreter only hands them over as plain data); "thread": the export thread
    #: does it in this process. "process" falls back to "thread" on its own when the
    #: writer cannot start (see docs/local-store.md)
    store_writer: str = "thread"

    @property
    def is_local(self) -> bool:
        return self.tracking_uri.startswith("sqlite:")

    @property
    def store_path(self) -> Path | None:
        """The local SQLite file when the destination is the local store."""
        if not self.is_local:
            return None
        return Path(self.tracking_uri[len("sqlite:///") :]).expanduser()


STORE_WRITERS: Final = ("process", "thread")
OPTIONS: Final = tuple(f.name for f in dataclasses.fields(Settings))


def home() -> Path:
    """Where tracekit keeps its files: ``$TRACEKIT_HOME``, default ``~/.tracekit``."""
    return Path(os.environ.get("TRACEKIT_HOME") or "~/.tracekit").expanduser()


def default_tracking_uri() -> str:
    return f"sqlite:///{home() / 'traces.db'}"


# --- parsing -------------------------------------------------------------------------

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _bool(setting: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(setting, value, "a boolean (true/false, 1/0, yes/no, on/off)")


def _number(setting: str, value: object, kind: type, low: float, high: float | None) -> Any:
    expected = f"{'a whole number' if kind is int else 'a number'} from {low}" + (
        f" to {high}" if high is not None else " up"
    )
    if isinstance(value, bool):
        raise ConfigError(setting, value, expected)
    if isinstance(value, str) and not value.isascii():
        # int()/float() accept other scripts' digits ('١٢'); a setting is written in ASCII
        raise ConfigError(setting, value, expected)
    try:
        number = kind(value.strip()) if isinstance(value, str) else kind(value)  # type: ignore[operator]
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float('inf'))
        raise ConfigError(setting, value, expected) from None
    if kind is int and not isinstance(value, (int, str)) and number != value:
        raise ConfigError(setting, value, expected)
    if number != number or number < low or (high is not None and number > high):
        raise ConfigError(setting, value, expected)
    return number


def normalize_uri(setting: str, value: object) -> str:
    """Check a tracking URI and return it in canonical form."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(setting, value, URI_FORMS)
    uri = value.strip()
    if uri.startswith("sqlite:"):
        if not uri.startswith("sqlite:///") or len(uri) == len("sqlite:///"):
            raise ConfigError(setting, value, URI_FORMS)
        return uri
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.hostname:
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(setting, value, URI_FORMS) from None
        if port == 0 or any(c.isspace() for c in uri):
            raise ConfigError(setting, value, URI_FORMS)
        return uri.rstrip("/")
    raise ConfigError(setting, value, URI_FORMS)


def _validate(name: str, value: Any) -> Any:
    """Parse one setting given explicitly or from the environment."""
    if name in ("enabled", "capture_content", "propagate_context", "propagate_threads"):
        return _bool(name, value)
    if name == "tracking_uri":
        return normalize_uri(name, value)
    if name in ("experiment_name", "experiment_id", "service_name"):
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(name, value, "a non-empty string")
        # ASCII digits only: str.isdigit() also accepts '١٢' and '²', which no server knows
        if name == "experiment_id" and not (value.strip().isascii() and value.strip().isdigit()):
            raise ConfigError(name, value, "a numeric MLflow experiment id such as '1'")
        return value.strip()
    if name == "sample_rate":
        return _number(name, value, float, 0.0, 1.0)
    if name == "max_attribute_length":
        return _number(name, value, int, 256, None)
    if name == "max_queue_size":
        return _number(name, value, int, 1, None)
    if name == "max_queue_bytes":
        return _number(name, value, int, 65_536, None)
    if name == "export_batch_size":
        return _number(name, value, int, 1, 100_000)
    if name == "export_interval":
        # 0 would make the export worker spin on a core
        return _number(name, value, float, 0.01, 3600.0)
    if name in ("exit_timeout", "export_retry_budget"):
        return _number(name, value, float, 0.0, 3600.0)
    if name == "export_timeout":
        return _number(name, value, float, 0.1, 3600.0)
    if name == "mask":
        if value is not None and not callable(value):
            raise ConfigError(name, value, "a callable (key, value) -> value, or None")
        return value
    if name == "redact_arguments":
        return _redact_arguments(value)
    if name == "store_writer":
        choice = value.strip().lower() if isinstance(value, str) else value
        if choice not in STORE_WRITERS:
            raise ConfigError(name, value, "'process' (a store writer process) or 'thread' (the export thread)")
        return choice
    if name == "store_max_mb":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # unset or an empty variable: no cap
        return _number(name, value, float, 1.0, None)
    closest = difflib.get_close_matches(name, OPTIONS, n=1)
    hint = f" (did you mean {closest[0]}?)" if closest else ""
    raise ConfigError(name, value, "one of the settings: " + ", ".join(OPTIONS) + hint)


_REDACT_FORMS: Final = "true (secret-named arguments), false (none), or names/glob patterns to add ('ssn,*_pin')"


def _redact_arguments(value: object) -> bool | tuple[str, ...]:
    if isinstance(value, str):
        if not value.strip():
            return True  # an empty variable means unset: never turns redaction off
        if value.strip().lower() in _TRUE + _FALSE:
            return _bool("redact_arguments", value)
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple, set, frozenset)) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(sorted(v.strip() for v in value))
    raise ConfigError("redact_arguments", value, _REDACT_FORMS)


def outbox_max_bytes(environ: Mapping[str, str]) -> int | None:
    """``TRACEKIT_OUTBOX_MAX_BYTES`` as a whole number of bytes (0: no outbox), None when unset."""
    raw = environ.get("TRACEKIT_OUTBOX_MAX_BYTES", "").strip()
    if not raw:
        return None
    number: int = _number("TRACEKIT_OUTBOX_MAX_BYTES", raw, int, 0, None)
    return number


# environment variable -> setting; the first one set wins
_ENV: Final[dict[str, tuple[str, ...]]] = {
    "enabled": ("TRACEKIT_ENABLED",),
    "tracking_uri": ("TRACEKIT_TRACKING_URI",),
    "experiment_name": ("TRACEKIT_EXPERIMENT_NAME",),
    "experiment_id": ("TRACEKIT_EXPERIMENT_ID",),
    "sample_rate": ("TRACEKIT_SAMPLE_RATE",),
    "capture_content": ("TRACEKIT_CAPTURE_CONTENT",),
    "propagate_context": ("TRACEKIT_PROPAGATE_CONTEXT",),
    "max_attribute_length": ("TRACEKIT_MAX_ATTRIBUTE_LENGTH",),
    "max_queue_size": ("TRACEKIT_MAX_QUEUE_SIZE",),
    "max_queue_bytes": ("TRACEKIT_MAX_QUEUE_BYTES",),
    "export_batch_size": ("TRACEKIT_EXPORT_BATCH_SIZE",),
    "export_interval": ("TRACEKIT_EXPORT_INTERVAL",),
    "exit_timeout": ("TRACEKIT_EXIT_TIMEOUT",),
    "export_timeout": ("TRACEKIT_EXPORT_TIMEOUT",),
    "export_retry_budget": ("TRACEKIT_EXPORT_RETRY_BUDGET",),
    "service_name": ("TRACEKIT_SERVICE_NAME", "OTEL_SERVICE_NAME"),
    "redact_arguments": ("TRACEKIT_REDACT_ARGUMENTS",),
    "propagate_threads": ("TRACEKIT_PROPAGATE_THREADS",),
    "store_max_mb": ("TRACEKIT_STORE_MAX_MB",),
    "store_writer": ("TRACEKIT_STORE_WRITER",),
}
#: TRACEKIT_* variables read elsewhere (not settings), so they are not typos
_OTHER_ENV: Final = frozenset(
    {
        "TRACEKIT_DEBUG",  # the CLI shows tracebacks
        "TRACEKIT_DISABLED",
        "TRACEKIT_HOME",
        "TRACEKIT_OUTBOX_DIR",
        "TRACEKIT_OUTBOX_MAX_BYTES",
        "TRACEKIT_OTLP_ATTRIBUTES",  # the OTLP exporter's attribute families
        "TRACEKIT_STRICT",
    }
)
KNOWN_ENV: Final = frozenset(name for names in _ENV.values() for name in names) | _OTHER_ENV


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """Every ``TRACEKIT_*`` variable tracekit does not read, with the closest known name."""
    unknown = sorted(k for k in environ if k.startswith("TRACEKIT_") and k not in KNOWN_ENV)
    return [(k, next(iter(difflib.get_close_matches(k, sorted(KNOWN_ENV), n=1, cutoff=0.6)), None)) for k in unknown]


def _from_environment(
    environ: Mapping[str, str], problems: list[ConfigError] | None = None, warn: bool = True
) -> dict[str, Any]:
    """The settings the environment gives. A bad value raises, or -- given ``problems``
    -- is appended there and left out, so that every problem is found at once. Doubtful
    values (unknown variables) are logged once when ``warn``."""

    def bad(error: ConfigError) -> None:
        if problems is None:
            raise error
        problems.append(error)

    found: dict[str, Any] = {}
    for setting, names in _ENV.items():
        for name in names:
            if name in environ:
                try:
                    found[setting] = _validate(setting, environ[name])
                except ConfigError as e:
                    bad(ConfigError(name, environ[name], e.expected))
                break
    if "TRACEKIT_DISABLED" in environ:
        try:
            found["enabled"] = not _bool("TRACEKIT_DISABLED", environ["TRACEKIT_DISABLED"])
        except ConfigError as e:
            bad(e)
    try:
        outbox_max_bytes(environ)
    except ConfigError as e:
        bad(e)
    # MLflow's own variables, below ours
    mlflow_uri = environ.get("MLFLOW_TRACKING_URI", "").strip()
    if "tracking_uri" not in found and mlflow_uri:
        if urlsplit(mlflow_uri).scheme in ("http", "https"):
            try:
                found["tracking_uri"] = normalize_uri("MLFLOW_TRACKING_URI", mlflow_uri)
            except ConfigError as e:
                bad(e)
        elif warn:
            # file:, sqlite:, databricks: are MLflow client stores tracekit cannot write to
            _warn_once(
                "mlflow-uri:" + mlflow_uri,
                f"tracekit: MLFLOW_TRACKING_URI={_redact.redact_url(mlflow_uri)!r} is not an http(s) tracking "
                "server; traces go to the local store. Set TRACEKIT_TRACKING_URI to choose.",
            )
    # MLflow's TLS variables conflict (tracekit._export._http.mlflow_tls refuses them when
    # the exporter starts): found here, it is a configuration error, not an internal one
    insecure = environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").strip()
    if insecure.lower() in _TRUE and environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
        expected = "unset while MLFLOW_TRACKING_SERVER_CERT_PATH is set (set only one)"
        bad(ConfigError("MLFLOW_TRACKING_INSECURE_TLS", insecure, expected))
    if "experiment_name" not in found and environ.get("MLFLOW_EXPERIMENT_NAME", "").strip():
        found["experiment_name"] = environ["MLFLOW_EXPERIMENT_NAME"].strip()
    if "experiment_id" not in found and environ.get("MLFLOW_EXPERIMENT_ID", "").strip():
        try:
            found["experiment_id"] = _validate("experiment_id", environ["MLFLOW_EXPERIMENT_ID"])
        except ConfigError as e:
            bad(ConfigError("MLFLOW_EXPERIMENT_ID", environ["MLFLOW_EXPERIMENT_ID"], e.expected))
    for name, closest in unknown_variables(environ) if warn else ():
        hint = f"; did you mean {closest}?" if closest else ""
        _warn_once("unknown:" + name, f"tracekit: {name} is not a tracekit variable and is ignored{hint}")
    return found


_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning("%s", message)


# --- the current settings ----------------------------------------------------------

_lock = threading.RLock()
_explicit: dict[str, Any] = {}
_current: Settings | None = None


_problem: ConfigError | None = None


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """What the configuration layers give: the settings in force, and the problem that
    turned tracing off (None when all is well)."""

    settings: Settings
    error: ConfigError | None
    unknown: list[tuple[str, str | None]]


def diagnose(explicit: Mapping[str, Any], environ: Mapping[str, str], warn: bool = True) -> Diagnosis:
    """Resolve without raising: with a bad value, the settings the good values give, but
    disabled (the app runs untraced), and the error naming every bad value."""
    problems: list[ConfigError] = []
    values: dict[str, Any] = _from_environment(environ, problems, warn)
    values.update(explicit)
    values.setdefault("tracking_uri", default_tracking_uri())
    if problems:
        values["enabled"] = False
    error = ConfigError.combine(problems) if problems else None
    return Diagnosis(Settings(**values), error, unknown_variables(environ))


def resolve(explicit: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    """Merge the layers into a :class:`Settings`; raise :class:`ConfigError` naming every
    bad value of the environment (pure but for warnings about unknown variables)."""
    diagnosis = diagnose(explicit, environ)
    if diagnosis.error is not None:
        raise diagnosis.error
    return diagnosis.settings


def problem() -> ConfigError | None:
    """The configuration problem that turned tracing off in this process, if any."""
    return _problem


def get() -> Settings:
    """The current settings, resolved on first use. Never raises: this is what the
    app's own calls (traced SDK calls, ``@trace``, spans, the exit hook) read."""
    current = _current
    if current is None:
        with _lock:
            current = _current
            if current is None:
                current = _set(_lenient())
    return current


def _lenient() -> Settings:
    global _problem
    diagnosis = diagnose(_explicit, os.environ)
    _problem = diagnosis.error
    if diagnosis.error is not None:
        _log_problem(diagnosis.error)
    return diagnosis.settings


_logged_problems: set[str] = set()


def _log_problem(error: ConfigError) -> None:
    """One ERROR line per distinct problem per process; the traceback with TRACEKIT_DEBUG."""
    message = str(error)
    if message in _logged_problems:
        return
    _logged_problems.add(message)
    debug = os.environ.get("TRACEKIT_DEBUG", "").strip().lower() not in _FALSE
    logger.error(
        "tracekit: configuration error, tracing is off: %s (`tracekit status` shows it)",
        message,
        exc_info=error if debug else None,
        stack_info=debug,  # which call first read the settings
    )


def check() -> Settings:
    """Validate every layer now, as an explicit set-up call does (``autolog()``):
    raise :class:`ConfigError` for any bad value. A fixed environment turns tracing
    back on."""
    with _lock:
        settings = resolve(_explicit, os.environ)
        if _problem is not None or _current is None:
            return _apply(settings)
        return _current


_listeners: list[Callable[[Settings, Settings | None], None]] = []


def on_change(listener: Callable[[Settings, Settings | None], None]) -> None:
    """Call ``listener(new, old)`` whenever the settings change (the runtime rebuilds)."""
    _listeners.append(listener)


def _set(settings: Settings) -> Settings:
    global _current
    old, _current = _current, settings
    for listener in _listeners:
        listener(settings, old)
    return settings


def _apply(settings: Settings) -> Settings:
    global _problem
    _problem = None
    return _set(settings)


def update(**options: Any) -> Settings:
    """Validate ``options``, layer them over the earlier explicit ones, and apply."""
    validated = {name: _validate(name, value) for name, value in options.items()}
    with _lock:
        candidate = dict(_explicit)
        candidate.update(validated)
        settings = resolve(candidate, os.environ)
        _explicit.clear()
        _explicit.update(candidate)
        return _apply(settings)


def reset() -> None:
    """Forget explicit settings and re-read the environment on next use (tests)."""
    global _current, _problem
    with _lock:
        _explicit.clear()
        _current = None
        _problem = None
        _warned.clear()
        _logged_problems.clear()
