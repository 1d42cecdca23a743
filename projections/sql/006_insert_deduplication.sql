-- A repeated insert with the same insert_deduplication_token is dropped: keep a
-- window of recent tokens on the tables the worker writes (replicated tables keep
-- one of their own; this setting is for single servers and embedded chDB).
ALTER TABLE ledger_lines MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE dead_letters MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE deal_credits MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE rep_directory MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE targets MODIFY SETTING non_replicated_deduplication_window = 1000;
