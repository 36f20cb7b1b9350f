"""Synthetic watches from the activity statistics: dbldatagen generator, CASAS batch output, Kafka stream,
fidelity report (``watchlake generate``, ``watchlake fidelity``)."""
