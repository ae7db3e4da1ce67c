-- Budgets a person thinks in (issue 15): a task's estimate and budget as amount specs
-- (`sessions.fill.amount`: "5%5h", "30%week", "200k", "$1.5"; the budget may be dollars,
-- which also go to `budget_usd` for Claude Code's --max-budget-usd), and a wall-clock
-- timeout. NULL: none given (and for tasks made before these columns).
ALTER TABLE queue_tasks ADD COLUMN estimate VARCHAR;
ALTER TABLE queue_tasks ADD COLUMN budget VARCHAR;
ALTER TABLE queue_tasks ADD COLUMN timeout_s INTEGER;
