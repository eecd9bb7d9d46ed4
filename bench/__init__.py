"""Benchmarks: `make bench` (python -m bench) prints one JSON object on its last line."""
