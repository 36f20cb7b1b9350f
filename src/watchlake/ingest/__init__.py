"""Bulk load: CASAS archives (download, local folder or zip, or the sample generator) -> lake staging."""
