-- The background queue (issue 6): tasks, their runs and outcomes, and fill's switch.
-- A task is one piece of headless work; a recurring task (cron, on-change) is a
-- template that queues a new task per occurrence (parent_id points back at it).
CREATE SEQUENCE queue_task_ids START 1;
CREATE TABLE queue_tasks (
    id               BIGINT PRIMARY KEY DEFAULT nextval('queue_task_ids'),
    prompt           VARCHAR NOT NULL,
    cwd              VARCHAR NOT NULL,
    agent            VARCHAR NOT NULL DEFAULT 'claude',
    worktree         BOOLEAN NOT NULL DEFAULT false,
    worktree_path    VARCHAR,
    priority         INTEGER NOT NULL DEFAULT 0,
    model            VARCHAR,
    max_turns        INTEGER,
    budget_usd       DOUBLE,
    est_pct          DOUBLE,
    allowed_tools    VARCHAR,          -- JSON list
    permission_mode  VARCHAR,
    schedule_kind    VARCHAR NOT NULL DEFAULT 'now',   -- now | at | cron | window | on_change
    schedule         VARCHAR,          -- the expression as given (ISO time, cron, window, glob)
    not_before       TIMESTAMPTZ,      -- --at, the night window, the next cron occurrence
    defer_until      TIMESTAMPTZ,      -- a usage limit's reset, a policy's defer
    -- queued | running | deferred | done | failed | cancelled | recurring (templates)
    state            VARCHAR NOT NULL DEFAULT 'queued',
    parent_id        BIGINT,
    claude_session_id VARCHAR,         -- what a resume continues
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_result      VARCHAR,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE queue_run_ids START 1;
CREATE TABLE queue_runs (
    id               BIGINT PRIMARY KEY DEFAULT nextval('queue_run_ids'),
    task_id          BIGINT NOT NULL,
    attempt          INTEGER NOT NULL,
    -- running | done | failed | limited | interrupted | cancelled
    state            VARCHAR NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ,
    argv             VARCHAR,          -- JSON list, for the record
    cwd              VARCHAR,
    resumed_from     VARCHAR,          -- the Claude session id this run resumed
    window_id        VARCHAR,
    pane_id          VARCHAR,
    pid              INTEGER,
    stream_path      VARCHAR,
    stream_offset    BIGINT NOT NULL DEFAULT 0,
    claude_session_id VARCHAR,
    exit_code        INTEGER,
    subtype          VARCHAR,
    is_error         BOOLEAN,
    api_error_status INTEGER,
    terminal_reason  VARCHAR,
    num_turns        INTEGER,
    total_cost_usd   DOUBLE,
    input_tokens     BIGINT,
    output_tokens    BIGINT,
    cache_creation_tokens BIGINT,
    cache_read_tokens BIGINT,
    duration_ms      BIGINT,
    resets_at        TIMESTAMPTZ,
    result           VARCHAR
);

-- Fill's switch and its one-off overrides (reserve, until): key -> JSON value.
CREATE TABLE queue_state (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);
