"""Runnable examples of filestack-async; each one is run by a test in ``tests/examples``."""
