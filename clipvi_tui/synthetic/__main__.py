"""Allow ``python -m clipvi_tui.synthetic OUT.mp4 [--seed N] ...``."""

from clipvi_tui.synthetic.world import main

raise SystemExit(main())
