"""Readers and writers for every format exprlab takes in or gives out; nothing else opens a data file."""
