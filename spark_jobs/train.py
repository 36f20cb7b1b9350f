"""spark-submit / EMR step entry of the `train` stage: ``watchlake train`` with $WATCHLAKE_ENV's settings."""

from __future__ import annotations

import sys

from watchlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
