-- One attainment definition (SPEC §9): a deal counts for its rep's team and region
-- as of its close, not as the directory stands today. Rows written before this
-- keep '' and are read with the directory's team and region.
ALTER TABLE deal_credits ADD COLUMN IF NOT EXISTS team_id LowCardinality(String) DEFAULT '';
ALTER TABLE deal_credits ADD COLUMN IF NOT EXISTS rep_region LowCardinality(String) DEFAULT '';
