"""spark-submit / EMR step entry of the `score` stage: ``watchlake score`` with $WATCHLAKE_ENV's settings."""

from __future__ import annotations

import sys

from watchlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["score", *sys.argv[1:]]))
