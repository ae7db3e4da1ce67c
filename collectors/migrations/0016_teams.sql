-- Teams (issue 16): `podium team "GOAL" --budget 20%week [--until 07:00]` queues a lead
-- run that splits the goal into subtasks, schedules them and integrates their results.
-- A team is its goal, its budget (the lead task's, which caps every node below it),
-- its deadline and the lead task it started; its nodes are the tasks with its id.
CREATE SEQUENCE team_ids START 1;
CREATE TABLE teams (
    id           BIGINT PRIMARY KEY DEFAULT nextval('team_ids'),
    goal         VARCHAR NOT NULL,
    budget       VARCHAR NOT NULL,     -- an amount spec (`sessions.fill.amount`)
    until        TIMESTAMPTZ,          -- no node starts after it
    cwd          VARCHAR NOT NULL,
    model        VARCHAR,
    lead_id      BIGINT,               -- the root task (the lead run)
    report_path  VARCHAR,              -- written when the last node ends
    created_at   TIMESTAMPTZ NOT NULL
);
-- Every task of a team carries its id (a subtask inherits its parent's), and the time
-- after which it must not start (the team's deadline). `continues_id`: the task whose
-- Claude session this one resumes (a lead's own continuation, run after its subtasks).
ALTER TABLE queue_tasks ADD COLUMN team_id BIGINT;
ALTER TABLE queue_tasks ADD COLUMN not_after TIMESTAMPTZ;
ALTER TABLE queue_tasks ADD COLUMN continues_id BIGINT;
