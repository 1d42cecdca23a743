-- The payout cycle (issue 15). A line's pay period: the month whose statement
-- carries it (the month of its date, or the next open month when that month was
-- locked before the line was booked). Rows written before this column take the
-- UTC month of their date.
ALTER TABLE ledger_lines ADD COLUMN IF NOT EXISTS pay_period LowCardinality(String)
    DEFAULT formatDateTime(occurred_at, '%Y-%m');
-- Every step of the payout cycle, with who and when: a statement approved, a period
-- locked, a manual adjustment, an inquiry raised or answered, a plan acknowledged.
-- One row per step (its event), written with the rep-topic offset that applied it.
CREATE TABLE IF NOT EXISTS payout_records
(
    kind        LowCardinality(String),
    rep_id      String,
    period      LowCardinality(String),
    by          String,
    occurred_at DateTime64(3, 'UTC'),
    event_id    String,
    ref         String,
    line_id     String,
    text        String,
    amount      Decimal(18, 2),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (kind, rep_id, event_id)
SETTINGS non_replicated_deduplication_window = 1000;
