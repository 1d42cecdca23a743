"""The topics read back: a partition's history, and the dead letters set aside."""
