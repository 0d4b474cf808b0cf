"""Shipping spans off the machine: MLflow tracking servers and OTLP/HTTP backends.

``mlflow`` and ``otlp`` hold the two span exporters; ``_sender`` the shared reliable
exporter (an on-disk outbox, counts) over ``_delivery`` (one request, retries with
backoff, the destination's health); ``_encode`` the pure conversions; ``_reader``
reads a trace back from an MLflow server.
"""
