"""``python -m bench`` (``make bench``): run every benchmark in this package."""

from __future__ import annotations

import sys

from bench import embedded_broker

if __name__ == "__main__":
    sys.exit(embedded_broker.main())
