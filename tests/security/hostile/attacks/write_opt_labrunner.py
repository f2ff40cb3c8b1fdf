# Attack: change the platform's own code inside the sandbox: the workers package is mounted at
# /opt/labrunner/workers (the harness runs from there). Reading it is fine by design (it is the
# open-source runner); planting or changing a file there must fail.
# Expected: the run succeeds; the read works, every write fails (read-only bind mount).
# expect-state: succeeded
# expect-log: CONTAINED
import os


def train(data, run):
    with open("/opt/labrunner/workers/harness.py") as handle:
        print(f"read harness.py by design: {len(handle.read())} characters")
    attempts = (
        ("create /opt/labrunner/workers/evil.py", lambda: open("/opt/labrunner/workers/evil.py", "w").write("x")),
        ("append to harness.py", lambda: open("/opt/labrunner/workers/harness.py", "a").write("\n# x\n")),
        ("create /opt/labrunner/evil", lambda: open("/opt/labrunner/evil", "w").write("x")),
        ("remove runner.py", lambda: os.remove("/opt/labrunner/workers/runner.py")),
        ("rename the package", lambda: os.rename("/opt/labrunner/workers", "/opt/labrunner/w")),
    )
    for label, action in attempts:
        try:
            got = action()
        except Exception as exc:
            print(f"CONTAINED {label}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED {label}: {got!r}")


def predict(model, x):
    return [0.0] * len(x)
