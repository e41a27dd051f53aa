"""Benchmarks of the tradegraph API: synthetic corpus, load paths, and the HTTP comparison (see README.md)."""
