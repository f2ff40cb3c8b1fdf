# Attack: leave files for later in /tmp, /dev/shm and /var/tmp (shared folders on a host), hoping
# they outlive the run or reach the host.
# Expected: the run succeeds; /tmp and /dev/shm are the sandbox's own size-limited tmpfs (the
# writes work but never appear on the host, which the test checks), /var/tmp does not exist.
# expect-state: succeeded
# expect-log: CONTAINED
import os

HOST = {}  # the test fills in the host's paths, ports and pids


def train(data, run):
    token = HOST["token"]
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        path = os.path.join(folder, f"hostile-{token}")
        try:
            with open(path, "w") as handle:
                handle.write("left behind by a learner")
        except Exception as exc:
            print(f"CONTAINED write {path}: {type(exc).__name__}: {exc}")
        else:
            print(f"wrote {path} (the test checks that the host has no such file)")
    if os.path.exists(HOST["marker_dir"]):
        print("ESCAPED the host's folders are visible next to /tmp")
    else:
        print("CONTAINED /tmp is private: no host folder is visible")


def predict(model, x):
    return [0.0] * len(x)
