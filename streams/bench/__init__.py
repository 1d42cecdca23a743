"""Benchmarks that print figures, and the sample events behind them and ``run``."""
