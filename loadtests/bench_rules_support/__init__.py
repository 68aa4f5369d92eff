"""Helpers for loadtests/bench_rules.py: events, generated programs, and the baselines."""
