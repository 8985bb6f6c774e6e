"""Frozen copies of earlier implementations, kept as test-only oracles."""
