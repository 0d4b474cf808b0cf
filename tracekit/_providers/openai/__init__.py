"""OpenAI SDK autolog: see ``tracekit.openai``."""
