"""spark-submit / EMR step entry: synthetic watches (``watchlake generate``) with $WATCHLAKE_ENV's settings."""

from __future__ import annotations

import sys

from watchlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
