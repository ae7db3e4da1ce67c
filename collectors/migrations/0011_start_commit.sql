-- Where a session started in git: the commit its checkout was at when it was made
-- (NULL outside a git repository, and for sessions made before this column). The
-- tower's diff view shows the session's changes against it.
ALTER TABLE sessions ADD COLUMN start_commit VARCHAR;
