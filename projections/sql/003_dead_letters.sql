-- Events set aside on the dead-letter topic: where each came from, why, and a preview
-- of its bytes (the original bytes stay on the topic, for `quotaflow dlq replay`).
-- Setting the same message aside again collapses under FINAL.
CREATE TABLE IF NOT EXISTS dead_letters
(
    source_topic     LowCardinality(String),
    source_partition UInt32,
    source_offset    Int64,
    reason           LowCardinality(String),
    detail           String,
    event_key        String,
    event_preview    String,
    set_aside_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (source_topic, source_partition, source_offset, reason);
