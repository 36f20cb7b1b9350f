"""spark-submit / EMR step entry of the `retrain` stage: ``watchlake retrain`` with $WATCHLAKE_ENV's settings."""

from __future__ import annotations

import sys

from watchlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["retrain", *sys.argv[1:]]))
