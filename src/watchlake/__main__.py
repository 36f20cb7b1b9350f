"""``python -m watchlake``: the same command as ``watchlake``."""

from __future__ import annotations

import sys

from watchlake.cli import main

if __name__ == "__main__":
    sys.exit(main())
