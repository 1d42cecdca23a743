"""Partition state: what a worker holds for each partition it owns, its checkpoints."""
