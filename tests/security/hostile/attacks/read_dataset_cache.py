# Attack: read the datasets of every lab: the worker's dataset cache (LAB_CACHE_DIR) and the
# site's dataset storage (DATASET_STORAGE_DIR), listing them and opening this lab's file there.
# Expected: the run succeeds; neither folder is in the sandbox (the run sees its own dataset
# only, read-only, at /job/dataset.npz).
# expect-state: succeeded
# expect-log: CONTAINED
import os

HOST = {}  # the test fills in the host's paths, ports and pids


def attempt(label, action):
    try:
        got = action()
    except Exception as exc:
        print(f"CONTAINED {label}: {type(exc).__name__}: {exc}"[:300])
    else:
        print(f"ESCAPED {label}: {got!r}"[:300])


def train(data, run):
    attempt("list the dataset cache", lambda: os.listdir(HOST["cache_dir"]))
    attempt("list the site's dataset storage", lambda: os.listdir(HOST["dataset_dir"]))
    attempt("open the site's dataset file", lambda: len(open(HOST["dataset_file"], "rb").read()))


def predict(model, x):
    return [0.0] * len(x)
