"""Attributions: Integrated Gradients and gene-to-pathway aggregation."""
