# Attack: write outside the job folder: new files in /, /usr, /etc, /bin and a folder of the test
# on the host; overwrite and chmod the run's dataset (a hard link into the worker's shared cache:
# changing it would poison other runs' data).
# Expected: the run succeeds and every write fails: the system folders are read-only mounts, the
# host's folders are not in the sandbox, and the dataset belongs to root and is read-only.
# expect-state: succeeded
# expect-log: CONTAINED
import os

HOST = {}  # the test fills in the host's paths, ports and pids


def write(path):
    with open(path, "w") as handle:
        handle.write("planted by a learner")
    return "written"


def train(data, run):
    token = HOST["token"]
    attempts = [
        (f"write {path}", lambda path=path: write(path))
        for path in (
            f"/hostile-{token}",
            f"/usr/hostile-{token}",
            f"/usr/lib/hostile-{token}",
            f"/etc/hostile-{token}",
            f"/bin/hostile-{token}",
            os.path.join(HOST["marker_dir"], f"write-{token}"),
        )
    ]
    attempts.append(("append to /job/dataset.npz", lambda: open("/job/dataset.npz", "ab").write(b"x")))
    attempts.append(("chmod /job/dataset.npz", lambda: os.chmod("/job/dataset.npz", 0o666)))
    for label, action in attempts:
        try:
            got = action()
        except Exception as exc:
            print(f"CONTAINED {label}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED {label}: {got!r}")


def predict(model, x):
    return [0.0] * len(x)
