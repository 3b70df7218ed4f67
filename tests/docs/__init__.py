"""Tests of the docs: every code sample runs."""
