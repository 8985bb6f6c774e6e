"""`python -m app.cli`: the `covote` command."""

from app.cli import main

raise SystemExit(main())
