"""Patch tables: the :class:`Patch` row, and applying / removing a provider's table
(now, or when the app first imports the SDK module a row names)."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence
from typing import Any

import wrapt

from tracekit import _config, _errors
from tracekit._llm._call import Endpoint
from tracekit._llm._wrappers import (
    RequestTap,
    ResponseTap,
    _applied,
    _async_wrapper,
    _request_tap_wrapper,
    _sync_wrapper,
    _tap_wrapper,
)

logger = logging.getLogger("tracekit")


@dataclasses.dataclass(frozen=True)
class Patch:
    """One row of a provider's patch table: ``module``'s ``cls.method`` is traced by ``endpoint``."""

    module: str
    cls: str
    method: str
    endpoint: Endpoint
    is_async: bool = False


# --- applying patch tables --------------------------------------------------------------

#: rows whose module the app has not imported yet: they are applied by an import hook
#: when it is (key -> row)
_armed: dict[tuple[str, str, str], Patch] = {}


def apply(table: Sequence[Patch]) -> list[Patch]:
    """Wrap every method of ``table`` that exists in the installed SDK (idempotent).

    A missing module, class or method is skipped alone with a debug log, so an older
    or newer SDK never fails the whole setup. A row whose module the app has not
    imported yet is *armed* instead: it is applied when that module is first imported
    (openai 3.54.0 loads its resources lazily; importing them all would add ~100 ms to
    ``autolog()`` for modules an app may never use). Returns the rows applied now.

    ``autolog()`` is an explicit set-up call: it first checks the whole configuration
    (environment included) and raises :class:`~tracekit.ConfigError` for a bad value.
    """
    _config.check()
    done = []
    for patch in table:
        key = (patch.module, patch.cls, patch.method)
        if key in _applied or key in _armed:
            continue
        if patch.module not in sys.modules and _arm(patch, key):
            continue
        if _apply_row(patch, key):
            done.append(patch)
    return done


def _apply_row(patch: Patch, key: tuple[str, str, str]) -> bool:
    try:
        module = importlib.import_module(patch.module)
        owner = getattr(module, patch.cls)
        original = owner.__dict__[patch.method]
    except (ImportError, AttributeError, KeyError):
        logger.debug("tracekit: %s.%s.%s not in this SDK version; not traced", *key)
        return False
    try:
        if isinstance(patch.endpoint, ResponseTap):
            wrapper = _tap_wrapper(patch.endpoint, key)
        elif isinstance(patch.endpoint, RequestTap):
            wrapper = _request_tap_wrapper(patch.endpoint, key)
        else:
            wrapper = _async_wrapper(patch.endpoint, key) if patch.is_async else _sync_wrapper(patch.endpoint, key)
        setattr(owner, patch.method, wrapt.FunctionWrapper(original, wrapper))
        _applied[key] = original
        return True
    except Exception:
        _errors.report(f"patch.{patch.cls}.{patch.method}")
        return False


def _arm(patch: Patch, key: tuple[str, str, str]) -> bool:
    """Apply ``patch`` when its module is first imported. False when the module does
    not exist (then :func:`apply` skips the row as before), or when its existence
    cannot be told without importing it."""
    # find_spec imports the parent packages of what it looks for: ask only for the first
    # level below the nearest package that is loaded already (the rest of the path is
    # checked when the module is imported: a row missing then is skipped as usual)
    parts = patch.module.split(".")
    depth = len(parts) - 1
    while depth > 0 and ".".join(parts[:depth]) not in sys.modules:
        depth -= 1
    if depth == 0:
        return False  # not even the SDK's top-level package is loaded
    try:
        if importlib.util.find_spec(".".join(parts[: depth + 1])) is None:
            return False
    except (ImportError, ValueError):
        return False
    _armed[key] = patch
    wrapt.register_post_import_hook(functools.partial(_on_import, key), patch.module)
    return True


def _on_import(key: tuple[str, str, str], module: Any) -> None:
    # runs inside the app's import of the SDK module: never raise into it
    patch = _armed.pop(key, None)
    if patch is None or key in _applied:
        return  # disarmed by remove(), or applied meanwhile
    with _errors.handle_internal_errors(f"patch.{patch.cls}.{patch.method}"):
        _apply_row(patch, key)


def remove(table: Sequence[Patch]) -> list[Patch]:
    """Undo :func:`apply` for every row of ``table``. Returns the rows removed."""
    done = []
    for patch in table:
        key = (patch.module, patch.cls, patch.method)
        if _armed.pop(key, None) is not None:
            done.append(patch)  # its hook finds it disarmed
            continue
        original = _applied.pop(key, None)
        if original is None:
            continue
        with _errors.handle_internal_errors(f"unpatch.{patch.cls}.{patch.method}"):
            owner = getattr(importlib.import_module(patch.module), patch.cls)
            setattr(owner, patch.method, original)
            done.append(patch)
    return done


def is_applied(patch: Patch) -> bool:
    """True for a row that is applied, or armed to be when its module is imported."""
    key = (patch.module, patch.cls, patch.method)
    return key in _applied or key in _armed


# --- the wrappers ---------------------------------------------------------------------
