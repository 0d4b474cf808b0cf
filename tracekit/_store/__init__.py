"""The local trace store (a SQLite file) and its span exporter."""

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
