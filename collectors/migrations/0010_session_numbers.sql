-- Each listed session's number: Alt-N focuses session N, and the pane border, the
-- tower and `podium ls` show it. A session keeps its number for its whole life (a kill
-- frees it, a new session takes the lowest free one), so it is stored, not counted
-- from the list: killing one session never renumbers the others.
ALTER TABLE sessions ADD COLUMN number INTEGER;
-- Sessions listed at the upgrade keep the numbers they showed: their place in
-- creation order.
UPDATE sessions SET number = numbered.n
FROM (
    SELECT id, row_number() OVER (ORDER BY created_at) AS n FROM sessions WHERE NOT removed
) AS numbered
WHERE sessions.id = numbered.id;
