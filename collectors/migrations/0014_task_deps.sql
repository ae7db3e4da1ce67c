-- Task graphs (issue 16): `podium queue add --after 3,4` makes a task wait until every
-- task it names is done, and hands it their results. One row per edge: `task_id` runs
-- after `after_id`. A table, not a list column, so "who waits on task 3" (its
-- dependents, held when it fails) is one indexed lookup.
CREATE TABLE queue_task_deps (
    task_id  BIGINT NOT NULL,
    after_id BIGINT NOT NULL,
    PRIMARY KEY (task_id, after_id)
);
CREATE INDEX queue_task_deps_after ON queue_task_deps (after_id);
