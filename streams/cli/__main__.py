"""``python -m streams.cli``: the ``quotaflow`` command."""

from streams.cli import main

main()
