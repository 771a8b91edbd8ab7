"""Connectivity scoring of queries against signature libraries: one module per method, one chunking driver."""
