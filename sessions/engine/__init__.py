"""The podium engine: the one process that owns the data dir."""
