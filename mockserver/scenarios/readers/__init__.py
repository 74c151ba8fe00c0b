"""Readers of a parsed scenario file: one module per part of the format, kinds in registries."""
