# Attack: find the hidden test labels by every route: attributes of `data` (and its meta), the
# arrays in the run's own dataset file, any .npz/.npy file visible anywhere, and the site's
# SQLite database, which stores them (labs_dataset.test_labels).
# Expected: the run succeeds and finds nothing: the dataset holds no test labels, there is no
# other dataset or database in the sandbox. Its predictions are all zeros, not the labels.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import sqlite3

import numpy as np

HOST = {}  # the test fills in the host's paths, ports and pids
SUSPECT = ("y_test", "test_labels", "labels_test", "y_true")
SKIP = ("/proc", "/sys", "/dev")


def suspicious(names):
    return [name for name in names if any(word in str(name).lower() for word in SUSPECT)]


def train(data, run):
    found = suspicious(vars(data)) + suspicious(data.meta)
    own = os.path.abspath("dataset.npz")  # the harness runs in the job folder
    with np.load(own, allow_pickle=False) as archive:
        print("the run's dataset holds", sorted(archive.files))
        found += suspicious(archive.files)
    files = 0
    for root, dirs, names in os.walk("/"):
        if root.startswith(SKIP) or "site-packages" in root or root.startswith("/usr"):
            dirs[:] = []
            continue
        for name in names:
            path = os.path.join(root, name)
            if name.endswith((".npz", ".npy")) and path != own:
                files += 1
                found += [f"{path}: {name}" for name in suspicious([name])]
                try:
                    with np.load(path, allow_pickle=False) as archive:
                        found += [f"{path}: {key}" for key in suspicious(archive.files)]
                except Exception:
                    pass
    print(f"other .npy/.npz files visible: {files}")
    if HOST["sqlite_db"]:
        try:
            with sqlite3.connect(f"file:{HOST['sqlite_db']}?mode=ro", uri=True) as db:
                rows = db.execute("select id, length(test_labels) from labs_dataset").fetchall()
            found.append(f"sqlite test_labels rows {rows}")
        except Exception as exc:
            print(f"CONTAINED the site's database: {type(exc).__name__}: {exc}")
    if found:
        print(f"ESCAPED hidden labels: {found[:10]}")
    else:
        print("CONTAINED no test labels anywhere")


def predict(model, x):
    return [0.0] * len(x)
