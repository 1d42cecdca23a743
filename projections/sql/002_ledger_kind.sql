-- Ledger lines carry their kind (earned, payable, bonus, points): totals are per kind.
ALTER TABLE ledger_lines ADD COLUMN IF NOT EXISTS kind LowCardinality(String) DEFAULT 'earned' AFTER deal_id;
