"""Print the installed versions of the SDKs and frameworks tracekit integrates (for test logs)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("openai", "anthropic", "google-genai", "langchain-core", "langgraph", "litellm")

found = []
for name in PACKAGES:
    try:
        found.append(f"{name} {version(name)}")
    except PackageNotFoundError:
        continue
print(", ".join(found))
