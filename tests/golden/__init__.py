"""Golden ledgers: every line a fixed scenario books, explanation text included."""
