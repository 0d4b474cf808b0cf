"""One folder per provider SDK, the same three file names in each: ``_patches.py`` (the
endpoints -- what each traced SDK method records -- the patch table and ``autolog``),
``_mapping.py`` (request/response data -> the call record) and ``_accumulate.py``
(stream chunks -> one response, once, when the stream ends). The public faces
(``tracekit.openai`` ...) are thin entry points over these."""
