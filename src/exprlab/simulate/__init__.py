"""Generators with known ground truth: LDA expression data and planted drug-disease mechanisms."""
