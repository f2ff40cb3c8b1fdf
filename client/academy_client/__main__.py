"""``python -m academy_client`` is the ``academy`` command."""

from academy_client.cli import main

raise SystemExit(main())
