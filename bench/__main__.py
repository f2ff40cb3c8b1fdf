"""``python -m bench`` (``make bench``): run every benchmark, then print all figures last.

Each benchmark is its own module, run in its own process (they start brokers and workers);
its lines of the form ``<ID> <number>`` are collected. At the end come the detail figures,
then the issue's figures, one line each, ``<ID> <value>`` with its goal beside it — last.
``python -m bench lab_overhead`` runs only the named ones.
"""

from __future__ import annotations

import operator
import re
import subprocess
import sys

BENCHMARKS = (
    "lab_overhead",  # P1, P2
    "throughput",  # P3
    "page_queries",  # P4
    "page_load",  # P5
    "live",  # P6, P7
    "fair_share",
    "runner_startup",
    "broker_candidates",
    "broker_outage",
    "cluster_sim",  # how many GPU nodes one site tier serves (no goal: a capacity figure)
    "coach",  # COACH_violations, COACH_ms
)
FIGURE = re.compile(r"^[A-Z][A-Za-z0-9_]* -?[0-9.]+(e-?[0-9]+)?$")
# ID -> (comparison, goal, what it is)
GOALS = {
    "P1": (operator.le, 0.2, "submit → score ÷ bare fresh-process run"),
    "P2": (operator.lt, 100, "ms submit → running, idle worker, embedded broker"),
    "P2_redis": (operator.lt, 100, "ms submit → running, idle worker, Redis"),
    "P3": (operator.ge, 0.9, "throughput of N concurrent runs ÷ N bare runs in parallel"),
    "P4": (operator.le, 15, "most SQL queries on any page at 10,000 rows"),
    "P4_growth": (operator.le, 0, "extra queries at 10,000 rows vs 10"),
    "P5": (operator.le, 3, "worst page p95 ÷ trivial view p95, 50 clients"),
    "P6": (operator.le, 1.2, "site CPU with 500 pages watching unchanging runs ÷ nobody watching"),
    "P7": (operator.lt, 250, "ms a worker's progress event → shown on the run page in a browser"),
    "COACH_violations": (operator.le, 0, "next steps locked, done, hidden or twice, 300 generated learners"),
    "FAIR_wait_runs": (operator.le, 1.5, "another learner's wait behind a 100-run burst, in runs"),
    "OUTAGE_stopped_ms": (operator.lt, 100, "slowest request's median (ms), broker stopped"),
    "OUTAGE_hung_ms": (operator.lt, 100, "slowest request's median (ms), broker hung"),
    "OUTAGE_hung_worst_ms": (operator.lt, 1500, "slowest single request (ms), broker hung"),
}
SIGN = {operator.le: "≤", operator.lt: "<", operator.ge: "≥"}


def main(names: list[str]) -> int:
    figures: dict[str, str] = {}
    failed = []
    for name in names or BENCHMARKS:
        print(f"\n##### bench.{name}", flush=True)
        process = subprocess.Popen([sys.executable, "-m", f"bench.{name}"], stdout=subprocess.PIPE, text=True)
        for line in process.stdout:
            print(line, end="", flush=True)
            if FIGURE.match(line.strip()):
                key, value = line.split()
                figures[key] = value
        if process.wait() != 0:
            failed.append(name)
    print("\n##### details")
    for key, value in figures.items():
        if key not in GOALS:
            print(f"{key} {value}")
    print("\n##### figures (goal beside each)")
    for key, (compare, goal, what) in GOALS.items():
        if key in figures:
            verdict = "met" if compare(float(figures[key]), goal) else "MISSED"
            print(f"{key} {figures[key]}    goal {SIGN[compare]} {goal:g}: {verdict}  ({what})")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
