"""Anthropic SDK autolog: see ``tracekit.anthropic``."""
