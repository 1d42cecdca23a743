-- Every accepted change of the target tree (SPEC §1, §9): an assignment, an
-- adjustment or a confirmation of a node's decomposition, with who approved it, when,
-- why, and the amount before and after. One row per change (its event), written
-- with the rep-topic offset that applied it.
CREATE TABLE IF NOT EXISTS target_changes
(
    node_id     String,
    period      LowCardinality(String),
    kind        LowCardinality(String),
    before      Nullable(Decimal(18, 2)),
    after       Decimal(18, 2),
    event_id    String,
    occurred_at Nullable(DateTime64(3, 'UTC')),
    approved_by Nullable(String),
    reason      String,
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (node_id, period, event_id)
SETTINGS non_replicated_deduplication_window = 1000;
