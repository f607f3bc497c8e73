"""Benchmarks: ASQA data, ALCE metrics, runs, reports, retrieval evaluation."""
