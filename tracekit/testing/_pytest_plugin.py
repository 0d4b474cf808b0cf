"""pytest plugin (entry point ``tracekit``): fixtures for apps that use tracekit.

- ``tracekit_capture``: an in-memory :class:`~tracekit.testing.SpanCapture` for one test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tracekit.testing._capture import SpanCapture, capture


@pytest.fixture
def tracekit_capture() -> Iterator[SpanCapture]:
    """Capture every tracekit span that ends during the test."""
    with capture() as captured:
        yield captured
