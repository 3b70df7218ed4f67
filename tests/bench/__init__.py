"""Tests of the benchmark harness (bench/): its pure pieces, no measurement."""
