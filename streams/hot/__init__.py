"""The high-rate path: deal-keyed topics and the rep topic, consumed in batches."""
