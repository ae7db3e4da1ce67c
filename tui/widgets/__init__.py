"""The control tower's widgets, one per module."""
