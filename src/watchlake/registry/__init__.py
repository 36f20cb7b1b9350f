"""A small model registry kept in the lake: immutable versions plus an atomically switched ``champion`` pointer."""
