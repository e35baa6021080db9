"""Benchmarks: ``python -m benchmarks.run`` (see RESULTS.md)."""
