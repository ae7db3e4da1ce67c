-- Agent sessions: the registry. Tmux ids ($session, @window, %pane) are stored, never names.
CREATE TABLE sessions (
    id                VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    agent             VARCHAR NOT NULL,
    argv              VARCHAR[] NOT NULL,
    cwd               VARCHAR NOT NULL,
    tmux_socket       VARCHAR NOT NULL,
    tmux_session_id   VARCHAR,
    window_id         VARCHAR,
    pane_id           VARCHAR,
    pid               INTEGER,
    claude_session_id VARCHAR,
    transcript_path   VARCHAR,
    settings_path     VARCHAR,
    state             VARCHAR NOT NULL,
    state_since       TIMESTAMPTZ NOT NULL,
    state_source      VARCHAR NOT NULL,
    exit_code         INTEGER,
    created_at        TIMESTAMPTZ NOT NULL,
    ended_at          TIMESTAMPTZ,
    -- Killed sessions stay for history (usage and attention reports join on them)
    -- but leave the list, and free their name.
    removed           BOOLEAN NOT NULL DEFAULT false
);

-- Every state change, with when and from which source (hook, screen, process, tmux, user).
CREATE TABLE state_transitions (
    session_id  VARCHAR NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,
    from_state  VARCHAR,
    to_state    VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    detail      VARCHAR
);

-- Hook events as Claude Code sent them: the raw material of state and attention history.
CREATE TABLE hook_events (
    ts                TIMESTAMPTZ NOT NULL,
    session_id        VARCHAR,
    claude_session_id VARCHAR,
    event             VARCHAR NOT NULL,
    payload           JSON
);

-- How far each spool (and later transcript) file has been read.
CREATE TABLE file_offsets (
    path     VARCHAR PRIMARY KEY,
    inode    BIGINT NOT NULL,
    size     BIGINT NOT NULL,
    offset_  BIGINT NOT NULL,
    updated  TIMESTAMPTZ NOT NULL
);
