"""Allow ``python -m clipvi_tui``."""

from clipvi_tui.cli import main

raise SystemExit(main())
