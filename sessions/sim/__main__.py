"""`python -m sessions.sim …`: the stand-in for the `claude` CLI."""

from sessions.sim.cli import main

raise SystemExit(main())
