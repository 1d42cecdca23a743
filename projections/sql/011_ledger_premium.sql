-- Of a payable line, the part the payment-speed premium added (SPEC §8): the budget
-- accrues it with the earned and awarded money, as the domain does.
ALTER TABLE ledger_lines ADD COLUMN IF NOT EXISTS premium Decimal(18, 2) DEFAULT 0;
