"""spark-submit / EMR step entry of the `clean` stage: ``watchlake clean`` with $WATCHLAKE_ENV's settings."""

from __future__ import annotations

import sys

from watchlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["clean", *sys.argv[1:]]))
