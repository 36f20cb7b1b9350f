"""watchlake: stage, clean, model, generate and classify Apple Watch sensor data (WSU CASAS smartwatch archives)."""

__version__ = "0.1.0"
