"""Keeping secrets in the process: the one redaction step every write goes through.

Two kinds of secret reach tracekit:

* **credentials in a URL** -- ``http://user:pw@host``, ``?api_key=...``, ``#token`` -- in a
  tracking URI, an OTLP endpoint or an error message that quotes one. :func:`redact_url`
  replaces the user information, every query value and the fragment by ``***``, and
  :func:`redact_text` does that for every URL inside a text (plus ``Bearer <token>``).
  Everything tracekit writes outside the process -- outbox files, status files, log
  lines (:class:`RedactingFilter` on the ``tracekit`` logger), ``tracekit status``,
  error messages -- passes through them. The exporter keeps the full URI in memory to
  send; a later process (``tracekit sync``) takes it from its own environment.
* **secret-named arguments** of ``@trace`` functions (``api_key``, ``password``,
  ``token``, ...): :func:`is_secret_name` decides, :class:`ArgumentRule` adds the names
  the app configures (``redact_arguments``), and the value is recorded as :data:`MARKER`.

>>> redact_url("https://bob:hunter2@mlflow.example.com/?api_key=sk-1#frag")
'https://***@mlflow.example.com/?api_key=***#***'
>>> is_secret_name("openai_api_key"), is_secret_name("max_tokens")
(True, False)
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import re
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "MARKER",
    "ArgumentRule",
    "RedactingFilter",
    "argument_rule",
    "is_secret_name",
    "needs_credentials",
    "redact_json",
    "redact_text",
    "redact_url",
]

#: what a secret-named argument is recorded as
MARKER: Final = "[REDACTED]"
#: what replaces a credential inside a URL (kept short so the URL stays readable)
URL_MASK: Final = "***"

# a URL inside a text, without the punctuation that ends a sentence or clause after it
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+?(?=[:,.;)\]]*(?:[\s'\"<>]|$))")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*")
# a query string quoted without its scheme and host ("url: /v1/traces?token=..." in a
# requests error, a server echoing the path it was asked for)
_QUERY_PARAM = re.compile(r"([?&][A-Za-z0-9_.\-\[\]]+=)(?!\*\*\*(?:[:&#\s'\"<>)]|$))[^&#\s'\"<>)]+")


@functools.lru_cache(maxsize=256)
def redact_url(url: str) -> str:
    """``url`` with its credentials replaced by ``***``: the user information (name and
    password: a lone name is often a token), every query value (any parameter may carry
    a key: ``api_key``, ``token``, ``sig``, ``code``) and the fragment. Idempotent.

    >>> redact_url("http://127.0.0.1:5000")
    'http://127.0.0.1:5000'
    >>> redact_url("http://u:p@h:1/x?token=t&v=1")
    'http://***@h:1/x?token=***&v=***'
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:  # a malformed URL (an unclosed IPv6 bracket): keep only the scheme
        scheme, sep, _ = url.partition("://")
        return f"{scheme}{sep}{URL_MASK}" if sep else URL_MASK
    if "@" in netloc:
        netloc = URL_MASK + "@" + netloc.rpartition("@")[2]
    query = parts.query
    if query:
        items = []
        for item in re.split(r"[&;]", query):
            name, sep, _value = item.partition("=")
            items.append(f"{name}={URL_MASK}" if sep else (URL_MASK if item else item))
        query = "&".join(items)
    fragment = URL_MASK if parts.fragment else ""
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`, every query
    parameter value quoted without its URL (``/v1/traces?token=...``) and every
    ``Bearer``/``Basic`` credential replaced.

    >>> redact_text("cannot reach http://u:pw@host:5000/v1/traces: refused")
    'cannot reach http://***@host:5000/v1/traces: refused'
    >>> redact_text("Max retries exceeded with url: /v1/traces?token=abc (refused)")
    'Max retries exceeded with url: /v1/traces?token=*** (refused)'
    """
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    if "=" in text and ("?" in text or "&" in text):
        text = _QUERY_PARAM.sub(lambda m: m.group(1) + URL_MASK, text)
    if "earer" in text or "asic" in text:
        text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {URL_MASK}", text)
    return text


def redact_json(value: Any) -> Any:
    """A JSON-shaped value (dicts, lists, strings) with :func:`redact_text` applied to
    every string in it, keys included."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_json(k) if isinstance(k, str) else k: redact_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_json(v) for v in value]
    return value


def needs_credentials(redacted: str) -> bool:
    """Whether a URL read back from a file had credentials taken out of it."""
    return URL_MASK in redacted


class RedactingFilter(logging.Filter):
    """Redacts every record of the ``tracekit`` logger before any handler sees it:
    the message, and the traceback text when one is attached."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
            clean = redact_text(message)
            if clean != message:
                record.msg, record.args = clean, None
            if record.exc_info and not record.exc_text:
                text = logging.Formatter().formatException(record.exc_info)
                clean = redact_text(text)
                if clean != text:
                    record.exc_text = clean
        except Exception:  # a record whose arguments do not format: the handler will say so
            pass
        return True


_FILTER: Final = RedactingFilter()


def install_log_filter() -> None:
    """Attach the filter to the ``tracekit`` logger (idempotent)."""
    logger = logging.getLogger("tracekit")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


# --- secret-named arguments ------------------------------------------------------------

#: a name whose *last* word is one of these names a secret: ``password``, ``user_password``,
#: ``access_token``, ``client_secret``; but ``token_count``, ``max_tokens``, ``secret_name``
#: and ``tokenizer`` are not (the last word is what the value *is*)
SECRET_WORDS: Final = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "credential",
        "credentials",
        "passphrase",
        "passwd",
        "password",
        "pwd",
        "secret",
        "token",
    }
)
#: ``<qualifier>_key`` names a secret (``api_key``, ``private_key``, ``aws_secret_access_key``);
#: a bare ``key`` or ``cache_key``/``sort_key`` does not
KEY_QUALIFIERS: Final = frozenset(
    {"access", "account", "api", "auth", "client", "encryption", "license", "master", "private", "secret", "session"}
    | {"signing", "ssh"}
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=1024)
def is_secret_name(name: str) -> bool:
    """The built-in rule: does the parameter name ``name`` mark its value as a secret?

    The name is split into words (``snake_case``, ``kebab-case``, ``camelCase``,
    ``UPPER_CASE``); it is a secret when its last word is one of :data:`SECRET_WORDS`,
    or when it ends in ``key`` qualified by one of :data:`KEY_QUALIFIERS`.

    >>> [n for n in ("apiKey", "X_API_KEY", "auth_token", "token_count", "cache_key") if is_secret_name(n)]
    ['apiKey', 'X_API_KEY', 'auth_token']
    """
    words = [w.lower() for w in _WORDS.findall(name)]
    if not words:
        return False
    last = words[-1]
    if last in SECRET_WORDS:
        return True
    return last == "key" and len(words) >= 2 and words[-2] in KEY_QUALIFIERS


class ArgumentRule:
    """Which argument names are recorded as :data:`MARKER`: the built-in rule plus
    ``extra`` names or glob patterns (case-insensitive, ``fnmatch`` style: ``"*_pin"``)."""

    __slots__ = ("_cache", "_patterns")

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self._patterns = tuple(p.lower() for p in extra)
        self._cache: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        found = self._cache.get(name)
        if found is None:
            lowered = name.lower()
            found = is_secret_name(name) or any(fnmatch.fnmatchcase(lowered, p) for p in self._patterns)
            if len(self._cache) < 4096:
                self._cache[name] = found
        return found


@functools.lru_cache(maxsize=16)
def argument_rule(setting: bool | tuple[str, ...]) -> ArgumentRule | None:
    """The rule for a ``redact_arguments`` setting: None when redaction is off."""
    if setting is False:
        return None
    return ArgumentRule(() if setting is True else setting)
