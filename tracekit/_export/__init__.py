"""Shipping spans off the machine: MLflow tracking servers and OTLP/HTTP backends.

``mlflow`` and ``otlp`` hold the two span exporters; ``_sender`` the shared reliable
sender (retries with backoff, an on-disk outbox, counts); ``_encode`` the pure
conversions; ``_reader`` reads a trace back from an MLflow server.
"""
