"""spark-submit / EMR step entry: run the streaming predictor (`watchlake predict`) with the settings of $WATCHLAKE_ENV."""

import sys

from watchlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["predict", *sys.argv[1:]]))
