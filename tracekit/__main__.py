"""``python -m tracekit``: the tracekit command line."""

import sys

from tracekit._cli import main

if __name__ == "__main__":
    sys.exit(main())
