"""The local trace store (a SQLite file) and its span exporter.

The names are imported on first use: the store writer process (``_writer``) imports
this package without the exporter and the OpenTelemetry SDK it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracekit._store._exporter import SQLiteSpanExporter
    from tracekit._store._schema import SCHEMA_VERSION, StoreSchemaError
    from tracekit._store._sqlite import SQLiteStore, default_store_path, store_path_from_uri

__all__ = [
    "SCHEMA_VERSION",
    "SQLiteSpanExporter",
    "SQLiteStore",
    "StoreSchemaError",
    "default_store_path",
    "store_path_from_uri",
]

_WHERE = {
    "SQLiteSpanExporter": "_exporter",
    "SCHEMA_VERSION": "_schema",
    "StoreSchemaError": "_schema",
    "SQLiteStore": "_sqlite",
    "default_store_path": "_sqlite",
    "store_path_from_uri": "_sqlite",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
