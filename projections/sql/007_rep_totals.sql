-- Each rep's leaderboard standing: earned commission so far and deals credited,
-- as of the rep's sequence (the rep's latest line). The worker writes a rep's row
-- whenever the rep books lines; a rewrite carries the same sequence and collapses,
-- so the leaderboard reads one row per rep instead of aggregating every line.
-- A database from before this migration fills it with `quotaflow rebuild`.
CREATE TABLE IF NOT EXISTS rep_totals
(
    rep_id     String,
    earned     Decimal(18, 2),
    deals      UInt32,
    version    UInt64,
    written_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY rep_id
SETTINGS non_replicated_deduplication_window = 1000;
