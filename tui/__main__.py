"""`python -m tui`: the same as the `podium` command."""

import sys

from tui.entry import main

sys.exit(main())
