"""pytest plugin (entry point ``tracekit``): fixtures for apps that use tracekit.

- ``tracekit_capture``: an in-memory :class:`~tracekit.testing.SpanCapture` for one test.
- ``fake_llm_server``: a :class:`~tracekit.testing.FakeLLMServer` started once per session.
- ``fake_llm``: the same server, reset (scenario, recorded requests, ids) around each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tracekit.testing._capture import SpanCapture, capture
from tracekit.testing._fakeserver._pytest import fake_llm, fake_llm_server

__all__ = ["fake_llm", "fake_llm_server", "tracekit_capture"]


@pytest.fixture
def tracekit_capture() -> Iterator[SpanCapture]:
    """Capture every tracekit span that ends during the test."""
    with capture() as captured:
        yield captured
