-- Pausing a task tree (issue 16): `podium queue pause ID` (or the tower) pauses a task
-- and its open subtasks: state `paused`, not started until resumed; a running one's run
-- is stopped and its Claude session resumed later. Who paused it ("you", or the task
-- whose subtree was paused) and when, so the tree and `queue show` can say so.
ALTER TABLE queue_tasks ADD COLUMN paused_by VARCHAR;
ALTER TABLE queue_tasks ADD COLUMN paused_at TIMESTAMPTZ;
