"""Descriptive statistics of the processed readings per activity class (``watchlake stats``)."""
