# Attack: change the platform's own code inside the sandbox: the harness is mounted at
# /opt/labrunner/harness.py, the lab runtime at /opt/labrunner/site-packages. Reading them is fine
# by design (open source); planting or changing a file there must fail.
# Expected: the run succeeds; the read works, every write fails (read-only bind mount).
# expect-state: succeeded
# expect-log: CONTAINED
import os


def train(data, run):
    with open("/opt/labrunner/harness.py") as handle:
        print(f"read harness.py by design: {len(handle.read())} characters")
    attempts = (
        ("create site-packages/evil.py", lambda: open("/opt/labrunner/site-packages/evil.py", "w").write("x")),
        ("append to harness.py", lambda: open("/opt/labrunner/harness.py", "a").write("\n# x\n")),
        ("create /opt/labrunner/evil", lambda: open("/opt/labrunner/evil", "w").write("x")),
        ("replace torch", lambda: os.rename("/opt/labrunner/site-packages/torch", "/opt/labrunner/t")),
        ("remove harness.py", lambda: os.remove("/opt/labrunner/harness.py")),
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
