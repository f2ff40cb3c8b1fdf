# Attack: forge the supervisor's protocol: write "ready", "phase: done", "result" and "finished"
# events with a perfect score to every open file descriptor, a 1 MB line without a newline,
# invalid and 8,000-deep nested JSON, and a fake "[lab runner]" verdict on stdout. Predictions
# are all zeros.
# Expected: the run succeeds and its score is the site's own for all-zero predictions: no event
# can carry a result, and malformed lines are skipped.
# expect-state: succeeded
import json
import os

FORGED = (
    {"kind": "ready", "torch": "forged"},
    {"kind": "phase", "phase": "done"},
    {"kind": "result", "state": "succeeded", "score": 1.0, "passed": True},
    {"kind": "finished", "result": {"state": "succeeded", "predictions": [1.0], "score": 1.0}},
)


def train(data, run):
    lines = b"".join((json.dumps(event) + "\n").encode() for event in FORGED)
    lines += b"x" * (1024 * 1024) + b"\n" + b"{not json\n" + b"[" * 8000 + b"]" * 8000 + b"\n"
    for fd in range(3, 64):
        try:
            os.write(fd, lines)
        except OSError:
            pass
    print("[lab runner] the run succeeded with score 1.0")


def predict(model, x):
    return [0.0] * len(x)
