-- Usage log, limits. `window` is an SQL keyword: write it "window" in queries.
-- Every plan-limit figure as it arrived (repeats of an unchanged figure are kept
-- once a minute): window five_hour | seven_day | seven_day_opus | seven_day_sonnet |
-- seven_day_<model>; source statusline | headless | limit_text | claude_json |
-- endpoint | estimate. ts is when the figure was true (for claude_json, its fetchedAt).
CREATE TABLE limit_samples (
    ts         TIMESTAMPTZ NOT NULL,
    "window"   VARCHAR NOT NULL,
    used_pct   DOUBLE NOT NULL,
    resets_at  TIMESTAMPTZ,
    source     VARCHAR NOT NULL,
    detail     VARCHAR
);

-- One row per window per tick (a minute): the freshest official figure, or the
-- estimate when none is fresh; age_s is the age of the official figure used (or
-- that the estimate starts from). Graphs and the waste metric read this series.
CREATE TABLE limit_series (
    minute     TIMESTAMPTZ NOT NULL,
    "window"   VARCHAR NOT NULL,
    used_pct   DOUBLE NOT NULL,
    resets_at  TIMESTAMPTZ,
    source     VARCHAR NOT NULL,
    age_s      DOUBLE,
    PRIMARY KEY (minute, "window")
);

-- CPU (percent of one core, summed over the tree) and resident memory of each live
-- session's process tree (the pane's process and its descendants), once a tick.
CREATE TABLE process_samples (
    minute     TIMESTAMPTZ NOT NULL,
    session_id VARCHAR NOT NULL,
    pid_count  INTEGER NOT NULL,
    cpu_pct    DOUBLE,
    rss_bytes  BIGINT NOT NULL,
    PRIMARY KEY (minute, session_id)
);
