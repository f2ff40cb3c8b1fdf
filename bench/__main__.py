"""``python -m bench`` (``make bench``): run every benchmark, then print all figures last.

Each benchmark is its own module, run in its own process (they start brokers and workers);
its lines of the form ``<ID> <number>`` are collected and printed together at the end.
``python -m bench lab_overhead`` runs only the named ones.
"""

from __future__ import annotations

import re
import subprocess
import sys

BENCHMARKS = ("embedded_broker", "runner_startup", "lab_overhead", "page_queries")
FIGURE = re.compile(r"^[A-Z][A-Za-z0-9_]* -?[0-9.]+(e-?[0-9]+)?$")


def main(names: list[str]) -> int:
    figures: list[str] = []
    failed = []
    for name in names or BENCHMARKS:
        print(f"\n##### bench.{name}", flush=True)
        process = subprocess.Popen([sys.executable, "-m", f"bench.{name}"], stdout=subprocess.PIPE, text=True)
        for line in process.stdout:
            print(line, end="", flush=True)
            if FIGURE.match(line.strip()):
                figures.append(line.strip())
        if process.wait() != 0:
            failed.append(name)
    print("\n##### figures")
    for line in figures:
        print(line)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
