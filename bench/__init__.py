"""Benchmarks that need the running stack (see docs/benchmarks.md)."""
