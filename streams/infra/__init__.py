"""What the rest stands on: settings, topic names, metrics, embedded engines."""
