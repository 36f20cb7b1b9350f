"""Streaming prediction: Kafka watch messages -> windows -> champion model -> SQL warehouse."""
