-- Messages between podium's agents and the person (issue 16: `podium mcp`'s `post` and
-- `inbox`, `podium post`). `sender` is what the engine knows the sender as (a session's
-- name, `task N`, `you` for the person), never a name the caller typed; the ids beside
-- it say which session or task it was. A message goes to a session (`to_id`: its podium
-- id, so a rename keeps it; typed into it as its next prompt once its turn has ended:
-- `delivered_at`), to a task's inbox (`to_id`: the task id, read with `inbox`) or to a
-- team's board (`to_id`: the root task's id; every task of that tree reads it).
CREATE SEQUENCE message_ids START 1;
CREATE TABLE messages (
    id             BIGINT PRIMARY KEY DEFAULT nextval('message_ids'),
    sent_at        TIMESTAMPTZ NOT NULL,
    sender         VARCHAR NOT NULL,
    sender_session VARCHAR,
    sender_task    BIGINT,
    to_kind        VARCHAR NOT NULL,  -- session | task | team
    to_id          VARCHAR NOT NULL,
    to_name        VARCHAR NOT NULL,  -- the recipient as it was addressed, for listings
    body           VARCHAR NOT NULL,
    delivered_at   TIMESTAMPTZ,
    read_at        TIMESTAMPTZ
);
-- A board has many readers: who read which board message (a task of the team).
CREATE TABLE message_board_reads (
    message_id BIGINT NOT NULL,
    reader_task BIGINT NOT NULL,
    read_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, reader_task)
);
