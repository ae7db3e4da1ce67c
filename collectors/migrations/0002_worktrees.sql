-- Sessions started with `podium new --worktree`: their own git worktree and branch.
-- NULL for sessions without one. The repo is the main worktree the worktree belongs to.
ALTER TABLE sessions ADD COLUMN worktree_path VARCHAR;
ALTER TABLE sessions ADD COLUMN worktree_branch VARCHAR;
ALTER TABLE sessions ADD COLUMN worktree_repo VARCHAR;
-- Whether podium created the branch: `kill --cleanup` only deletes branches it made,
-- so a branch the user brought with --branch is never removed by podium.
ALTER TABLE sessions ADD COLUMN worktree_branch_created BOOLEAN;
