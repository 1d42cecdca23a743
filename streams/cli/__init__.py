"""The ``quotaflow`` command line."""

from streams.cli.commands import main

__all__ = ["main"]
