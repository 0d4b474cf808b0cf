"""google-genai SDK autolog: see ``tracekit.gemini``."""
