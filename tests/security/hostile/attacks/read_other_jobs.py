# Attack: read other runs' job folders (their solution.py, predictions, datasets): list the
# worker's jobs folder (LAB_JOBS_DIR) and the parent of the sandbox's own /job, and search the
# whole visible file tree for other job files.
# Expected: the run succeeds; the jobs folder is not in the sandbox, /job's parent is the sandbox
# root, and the only job files anywhere are this run's own.
# expect-state: succeeded
# expect-log: CONTAINED
import os

HOST = {}  # the test fills in the host's paths, ports and pids
JOB_FILES = {"solution.py", "job.json", "predictions.npy", "dataset.npz"}
SKIP = ("/proc", "/sys", "/dev", "/usr", "/job")


def train(data, run):
    try:
        entries = os.listdir(HOST["jobs_dir"])
    except Exception as exc:
        print(f"CONTAINED list the jobs folder: {type(exc).__name__}: {exc}")
    else:
        print(f"ESCAPED the jobs folder lists {entries[:20]}")
    print("/job/.. holds", sorted(os.listdir("/job/..")))
    found = []
    for root, dirs, files in os.walk("/"):
        if root.startswith(SKIP) or "site-packages" in root:
            dirs[:] = []
            continue
        found += [os.path.join(root, name) for name in files if name in JOB_FILES]
    if found:
        print(f"ESCAPED other job files: {found[:20]}")
    else:
        print("CONTAINED no job files outside /job")


def predict(model, x):
    return [0.0] * len(x)
