"""QuotaFlow's incentive rules: pure functions and frozen models, no I/O, no clock."""
