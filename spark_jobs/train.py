"""spark-submit / EMR step entry: train the activity classifier (``watchlake train``)."""

from __future__ import annotations

import logging

from watchlake.settings import load_settings
from watchlake.spark import build_session
from watchlake.train.job import run

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    result = run(settings, build_session(settings, "watchlake-train"))
    logging.getLogger("watchlake.train").info("train result: %s", result)
