-- Attention: each time a session starts to need the human (waiting, permission,
-- limited) an item opens; it closes when the human acknowledges it (focus, send),
-- answers in the pane (the agent moves on), or the session ends.
CREATE SEQUENCE attention_item_ids START 1;
CREATE TABLE attention_items (
    id          BIGINT PRIMARY KEY DEFAULT nextval('attention_item_ids'),
    session_id  VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,      -- waiting | permission | limited
    opened_at   TIMESTAMPTZ NOT NULL,
    detail      VARCHAR,
    closed_at   TIMESTAMPTZ,
    -- focus | send | answer (the agent moved on) | ended (exited, lost, killed)
    closed_by   VARCHAR
);

-- A limited session carries the reset time its limit message named.
ALTER TABLE sessions ADD COLUMN limit_resets_at TIMESTAMPTZ;
