"""Entry point for ``python -m mppsconsole``."""

from mppsconsole.app import main

raise SystemExit(main())
