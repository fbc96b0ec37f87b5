"""Benchmarks (quality and speed figures); importing this package is light."""
