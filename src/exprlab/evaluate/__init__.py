"""Metrics: retrieval metrics, splits, explanation metrics."""
