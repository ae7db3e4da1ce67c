-- Alerts: what reached the person when sessions started to need them, one row per
-- kind of alert given (bell, message, desktop), and `spared` for an alert not given
-- because the person was looking at the session's pane. `sessions` are the podium
-- session ids the alert was about (several when a burst became one alert).
CREATE SEQUENCE alert_ids START 1;
CREATE TABLE alerts (
    id        BIGINT PRIMARY KEY DEFAULT nextval('alert_ids'),
    sent_at   TIMESTAMPTZ NOT NULL,
    kind      VARCHAR NOT NULL,      -- bell | message | desktop | spared
    sessions  VARCHAR[] NOT NULL,
    -- how: the number of terminals rung or shown it; notify-send or osc
    detail    VARCHAR
);
