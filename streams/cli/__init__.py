"""The ``quotaflow`` command line: one module for each group of commands."""

from streams.cli.commands import main

__all__ = ["main"]
