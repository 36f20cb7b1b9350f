"""The CASAS smartwatch file format, its sample generator and the `watchlake sample` command."""
