"""tracekit's version, in a module of its own so that any module can name it without
importing the package's face (``tracekit/__init__``) from below."""

__version__ = "0.1.0"
