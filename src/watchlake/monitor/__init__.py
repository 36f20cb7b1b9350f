"""Monitoring figures of the running platform, read from the warehouse and the model registry."""
