"""One folder per provider SDK, the same file names in each: ``_patches.py`` (the patch
table, its endpoints and ``autolog``), ``_mapping.py`` (request/response data -> span
data), and where the SDK needs them ``_streams.py`` / ``_endpoints.py`` / ``_response.py``.
The public faces (``tracekit.openai`` ...) are thin entry points over these."""
