"""Configuration: one resolved, immutable :class:`Settings`.

Precedence, highest first: an explicit call (:func:`tracekit.configure`,
:func:`tracekit.set_tracking_uri`, :func:`tracekit.set_experiment`) >
``TRACEKIT_*`` environment > ``MLFLOW_TRACKING_URI`` / ``MLFLOW_EXPERIMENT_NAME`` /
``MLFLOW_EXPERIMENT_ID`` > defaults. Every bad value raises :class:`ConfigError`
naming the setting, the value and the accepted forms.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from tracekit._errors import ConfigError

logger = logging.getLogger("tracekit")

#: masking hook: called with (attribute key, JSON-able value), returns the value to record
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
    max_attribute_length: int = 1_000_000
    max_queue_size: int = 4096
    export_batch_size: int = 512
    export_interval: float = 0.5
    exit_timeout: float = 5.0
    export_timeout: float = 30.0  # seconds per HTTP request (a cold MLflow server may take ~15 s)
    export_retry_budget: float = 15.0  # seconds a batch may spend in retries before it goes to the outbox
    service_name: str = "tracekit"
    mask: Mask | None = None
    propagate_threads: bool = True  # ThreadPoolExecutor work nests under the submitting span

    @property
    def is_local(self) -> bool:
        return self.tracking_uri.startswith("sqlite:")

    @property
    def store_path(self) -> Path | None:
        """The local SQLite file when the destination is the local store."""
        if not self.is_local:
            return None
        return Path(self.tracking_uri[len("sqlite:///") :]).expanduser()


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
    try:
        number = kind(value.strip()) if isinstance(value, str) else kind(value)  # type: ignore[operator]
    except (TypeError, ValueError):
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
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ConfigError(setting, value, URI_FORMS) from None
        return uri.rstrip("/")
    raise ConfigError(setting, value, URI_FORMS)


def _validate(name: str, value: Any) -> Any:
    """Parse one setting given explicitly or from the environment."""
    if name in ("enabled", "capture_content", "propagate_threads"):
        return _bool(name, value)
    if name == "tracking_uri":
        return normalize_uri(name, value)
    if name in ("experiment_name", "experiment_id", "service_name"):
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(name, value, "a non-empty string")
        if name == "experiment_id" and not value.strip().isdigit():
            raise ConfigError(name, value, "a numeric MLflow experiment id such as '1'")
        return value.strip()
    if name == "sample_rate":
        return _number(name, value, float, 0.0, 1.0)
    if name == "max_attribute_length":
        return _number(name, value, int, 256, None)
    if name == "max_queue_size":
        return _number(name, value, int, 1, None)
    if name == "export_batch_size":
        return _number(name, value, int, 1, 100_000)
    if name in ("export_interval", "exit_timeout", "export_retry_budget"):
        return _number(name, value, float, 0.0, 3600.0)
    if name == "export_timeout":
        return _number(name, value, float, 0.1, 3600.0)
    if name == "mask":
        if value is not None and not callable(value):
            raise ConfigError(name, value, "a callable (key, value) -> value, or None")
        return value
    raise ConfigError(name, value, "one of the settings: " + ", ".join(OPTIONS))


# environment variable -> setting; the first one set wins
_ENV: Final[dict[str, tuple[str, ...]]] = {
    "enabled": ("TRACEKIT_ENABLED",),
    "tracking_uri": ("TRACEKIT_TRACKING_URI",),
    "experiment_name": ("TRACEKIT_EXPERIMENT_NAME",),
    "experiment_id": ("TRACEKIT_EXPERIMENT_ID",),
    "sample_rate": ("TRACEKIT_SAMPLE_RATE",),
    "capture_content": ("TRACEKIT_CAPTURE_CONTENT",),
    "max_attribute_length": ("TRACEKIT_MAX_ATTRIBUTE_LENGTH",),
    "max_queue_size": ("TRACEKIT_MAX_QUEUE_SIZE",),
    "export_batch_size": ("TRACEKIT_EXPORT_BATCH_SIZE",),
    "export_interval": ("TRACEKIT_EXPORT_INTERVAL",),
    "exit_timeout": ("TRACEKIT_EXIT_TIMEOUT",),
    "export_timeout": ("TRACEKIT_EXPORT_TIMEOUT",),
    "export_retry_budget": ("TRACEKIT_EXPORT_RETRY_BUDGET",),
    "service_name": ("TRACEKIT_SERVICE_NAME", "OTEL_SERVICE_NAME"),
    "propagate_threads": ("TRACEKIT_PROPAGATE_THREADS",),
}
#: TRACEKIT_* variables read elsewhere (not settings), so they are not typos
_OTHER_ENV: Final = frozenset(
    {
        "TRACEKIT_DEBUG",  # the CLI shows tracebacks
        "TRACEKIT_DISABLED",
        "TRACEKIT_HOME",
        "TRACEKIT_OUTBOX_DIR",
        "TRACEKIT_OUTBOX_MAX_BYTES",
        "TRACEKIT_STRICT",
    }
)
KNOWN_ENV: Final = frozenset(name for names in _ENV.values() for name in names) | _OTHER_ENV


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    unknown = sorted(k for k in environ if k.startswith("TRACEKIT_") and k not in KNOWN_ENV)
    if unknown:
        raise ConfigError(unknown[0], environ[unknown[0]], "a known variable: " + ", ".join(sorted(KNOWN_ENV)))
    for setting, names in _ENV.items():
        for name in names:
            if name in environ:
                try:
                    found[setting] = _validate(setting, environ[name])
                except ConfigError as e:
                    raise ConfigError(name, environ[name], e.expected) from None
                break
    if "TRACEKIT_DISABLED" in environ:
        found["enabled"] = not _bool("TRACEKIT_DISABLED", environ["TRACEKIT_DISABLED"])
    # MLflow's own variables, below ours
    mlflow_uri = environ.get("MLFLOW_TRACKING_URI", "").strip()
    if "tracking_uri" not in found and mlflow_uri:
        if urlsplit(mlflow_uri).scheme in ("http", "https"):
            found["tracking_uri"] = normalize_uri("MLFLOW_TRACKING_URI", mlflow_uri)
        else:
            # file:, sqlite:, databricks: are MLflow client stores tracekit cannot write to
            logger.warning(
                "tracekit: MLFLOW_TRACKING_URI=%r is not an http(s) tracking server; "
                "traces go to the local store. Set TRACEKIT_TRACKING_URI to choose.",
                mlflow_uri,
            )
    if "experiment_name" not in found and environ.get("MLFLOW_EXPERIMENT_NAME", "").strip():
        found["experiment_name"] = environ["MLFLOW_EXPERIMENT_NAME"].strip()
    if "experiment_id" not in found and environ.get("MLFLOW_EXPERIMENT_ID", "").strip():
        found["experiment_id"] = _validate("experiment_id", environ["MLFLOW_EXPERIMENT_ID"])
    return found


# --- the current settings ----------------------------------------------------------

_lock = threading.RLock()
_explicit: dict[str, Any] = {}
_current: Settings | None = None


def resolve(explicit: Mapping[str, Any], environ: Mapping[str, str]) -> Settings:
    """Merge the layers into a :class:`Settings` (pure: no global state)."""
    values: dict[str, Any] = _from_environment(environ)
    values.update(explicit)
    values.setdefault("tracking_uri", default_tracking_uri())
    return Settings(**values)


def get() -> Settings:
    """The current settings, resolved on first use."""
    current = _current
    if current is None:
        with _lock:
            current = _current
            if current is None:
                current = _set(resolve(_explicit, os.environ))
    return current


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


def update(**options: Any) -> Settings:
    """Validate ``options``, layer them over the earlier explicit ones, and apply."""
    validated = {name: _validate(name, value) for name, value in options.items()}
    with _lock:
        candidate = dict(_explicit)
        candidate.update(validated)
        settings = resolve(candidate, os.environ)
        _explicit.clear()
        _explicit.update(candidate)
        return _set(settings)


def reset() -> None:
    """Forget explicit settings and re-read the environment on next use (tests)."""
    global _current
    with _lock:
        _explicit.clear()
        _current = None
