-- Every booked ledger line with its explanation. Lines are immutable facts keyed by
-- line_id; a rewrite after a replay carries the same version and collapses under FINAL.
CREATE TABLE IF NOT EXISTS ledger_lines
(
    line_id          String,
    rep_id           String,
    deal_id          String,
    rule             LowCardinality(String),
    plan_id          LowCardinality(String),
    plan_version     UInt32,
    amount           Decimal(18, 2),
    currency         LowCardinality(String),
    occurred_at      DateTime64(3, 'UTC'),
    formula          String,
    inputs           String,
    source_event_ids Array(String),
    version          UInt64,
    written_at       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (rep_id, line_id);
