"""Benchmarks named in the issues; each prints its figures on its last line."""
