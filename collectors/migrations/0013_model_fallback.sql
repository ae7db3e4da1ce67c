-- Model-scoped weeks (issue 15): a background task may name a model to run on when
-- its own model's week is short (`podium queue add --model opus --model-fallback
-- sonnet`), and every run records the model it ran on (NULL: the agent's default,
-- and runs made before this column), so a run's spend is counted against the week
-- it really used.
ALTER TABLE queue_tasks ADD COLUMN model_fallback VARCHAR;
ALTER TABLE queue_runs ADD COLUMN model VARCHAR;
