-- The heatmap's cells (period × region × product line) as each rep partition sums
-- them for its reps: credited revenue, and the deals it counts (each deal once, by
-- the lowest rep id among its splits). A cell is the sum of its partitions' rows;
-- `version` is the rep-topic offset that last changed the row. A database from
-- before this migration fills it with `quotaflow rebuild`.
CREATE TABLE IF NOT EXISTS heat_cells
(
    period       LowCardinality(String),
    region       LowCardinality(String),
    product_line LowCardinality(String),
    partition    UInt32,
    revenue      Decimal(18, 2),
    deals        Int64,
    version      UInt64,
    written_at   DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (period, region, product_line, partition)
SETTINGS non_replicated_deduplication_window = 1000;
