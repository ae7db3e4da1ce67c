-- The usage log: one row per API response, from Claude Code's transcripts.
-- One response is written as several lines (one per content block, and again in
-- subagent replays); dedupe_key is its message.id ("m:…"), else its requestId
-- ("r:…"), else the line's own place ("l:<file>:<byte offset>"). Rows stay when
-- Claude Code deletes its transcripts: this table is the long history.
CREATE TABLE usage_messages (
    dedupe_key               VARCHAR PRIMARY KEY,
    ts                       TIMESTAMPTZ NOT NULL,
    claude_session_id        VARCHAR,
    project                  VARCHAR,      -- the cwd the record names
    model                    VARCHAR,
    input_tokens             BIGINT NOT NULL,
    output_tokens            BIGINT NOT NULL,
    cache_creation_tokens    BIGINT NOT NULL,  -- 5-minute and 1-hour writes together
    cache_creation_1h_tokens BIGINT NOT NULL,  -- the 1-hour part (priced higher)
    cache_read_tokens        BIGINT NOT NULL,
    cost_usd                 DOUBLE,       -- API list price estimate; NULL: unknown model
    entrypoint               VARCHAR,      -- interactive | headless | NULL (unknown)
    entrypoint_raw           VARCHAR,      -- as written: cli, sdk-cli, ...
    is_sidechain             BOOLEAN NOT NULL,
    message_id               VARCHAR,
    request_id               VARCHAR,
    source_path              VARCHAR NOT NULL
);

-- A digest of the bytes just before the offset: a file rewritten in place (same
-- inode, not shorter) is noticed and read again from the start.
ALTER TABLE file_offsets ADD COLUMN fingerprint VARCHAR;

-- Small facts about the log itself (e.g. the digest of the prices its costs use).
CREATE TABLE usage_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
