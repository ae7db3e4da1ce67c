"""Background fill: the policy that spends spare plan capacity, and its simulator.

Pure code only: no I/O, no clock reads, no engine, tmux or textual imports, so the
live scheduler and `podium simulate` run exactly the same decisions.
"""
