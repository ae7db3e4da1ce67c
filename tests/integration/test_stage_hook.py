"""The stage's resize hook in a real tmux: tmux's own arithmetic gives the tower the
width `stage.tower_width` says, at every size, with no engine running."""

from __future__ import annotations

import pytest
from conftest import PodiumEnv
from libtmux.test.retry import retry_until

from sessions import stage
from sessions.tmux import Tmux

# Around every bend of the rule: the floor, the narrow tower, the quarter's clamps.
WIDTHS = [60, 70, 79, 80, 81, 85, 88, 89, 90, 100, 111, 112, 113, 131, 160, 161, 164, 200, 240]


@pytest.mark.parametrize("session_min", [60, 100])
def test_the_hook_sizes_the_tower_as_the_rules_do(podium_env: PodiumEnv, session_min: int):
    tmux = Tmux(podium_env.socket)
    tower = tmux.run(
        "new-session", "-d", "-s", "podium", "-x", "200", "-y", "20", "-P", "-F", "#{pane_id}",
        "sleep 600",
    )[0]  # fmt: skip
    window = tmux.run("display-message", "-p", "-t", tower, "#{window_id}")[0]
    tmux.run("set-option", "-w", "-t", window, stage.ROLE_OPTION, stage.STAGE_ROLE)
    tmux.run("set-option", "-p", "-t", tower, stage.ROLE_OPTION, stage.TOWER_ROLE)
    tmux.run("split-window", "-d", "-h", "-t", tower, "sleep 600")
    stage.arrange(tmux, "podium", session_min)

    def tower_cols() -> int:
        return int(tmux.run("display-message", "-p", "-t", tower, "#{pane_width}")[0])

    for width in WIDTHS:
        tmux.run("resize-window", "-t", window, "-x", str(width), "-y", "20")
        want = stage.tower_width(width, session_min)
        # tmux runs the hook from its queue, just after the resize shows.
        assert retry_until(lambda want=want: tower_cols() == want, 5, raises=False), (
            width,
            want,
            tower_cols(),
        )
