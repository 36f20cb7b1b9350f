"""The feature store of annotated windows (Feast): labels pushed online and offline, read back point-in-time."""
