-- The stage: when each session was last in front of the person (focused, or
-- brought onto the stage). A session brought forward to a full stage replaces
-- the one least recently focused; kept here so an engine restart keeps the order.
CREATE TABLE stage_focus (
    session_id  VARCHAR PRIMARY KEY,
    focused_at  TIMESTAMPTZ NOT NULL
);
