"""Torch models: phenotype classifiers and drug-disease matchers."""
