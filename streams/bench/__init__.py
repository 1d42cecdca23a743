"""Benchmarks that print figures, and the sample events behind them and ``run``."""

# The reps of ``quotaflow bench fold``'s year unless told (here so that the CLI
# does not load the benchmark to show its options).
DEFAULT_REPS = 200
