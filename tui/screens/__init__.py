"""The control tower's screens and dialogs, one per module."""
