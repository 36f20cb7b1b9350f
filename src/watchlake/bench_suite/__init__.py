"""``watchlake bench``: every benchmark under bench/ with its baseline in the same run, one table of medians."""
