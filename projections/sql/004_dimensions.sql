-- What attainment, the team and region leaderboards and the heatmap are computed
-- from. Each row is the latest state of its key; `version` is the offset of the
-- message on the rep topic that produced it, so a rewrite after a replay collapses.

-- A rep's stake in a deal as it stands (amended, or cancelled), in the rep's periods.
CREATE TABLE IF NOT EXISTS deal_credits
(
    rep_id       String,
    deal_id      String,
    customer_id  String,
    product_line LowCardinality(String),
    region       LowCardinality(String),
    closed_at    DateTime64(3, 'UTC'),
    year         LowCardinality(String),
    quarter      LowCardinality(String),
    month        LowCardinality(String),
    credited     Decimal(18, 2),
    margin       Decimal(18, 2),
    cancelled    Bool,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (rep_id, deal_id);

-- Who is in which team and region (RepHired, RepMoved, RepLeft).
CREATE TABLE IF NOT EXISTS rep_directory
(
    rep_id    String,
    team_id   LowCardinality(String),
    region    LowCardinality(String),
    role      LowCardinality(String),
    grade     LowCardinality(String),
    hired_at  DateTime64(3, 'UTC'),
    left_at   Nullable(DateTime64(3, 'UTC')),
    version   UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY rep_id;

-- The target tree: one row per node and period (QuotaAssigned, QuotaAdjusted).
CREATE TABLE IF NOT EXISTS targets
(
    node_id   String,
    period    LowCardinality(String),
    level     LowCardinality(String),
    parent_id Nullable(String),
    amount    Decimal(18, 2),
    currency  LowCardinality(String),
    version   UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (node_id, period);
