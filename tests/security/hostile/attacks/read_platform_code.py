# Attack: read the platform's code and configuration: the repository's config/settings/base.py,
# manage.py and .env files, a listing of the repository root, and any .env file visible anywhere.
# Expected: the run succeeds; nothing of the repository is in the sandbox (learner code runs on
# the lab runtime, not the worker's virtualenv), and no .env file is visible.
# expect-state: succeeded
# expect-log: CONTAINED
import os

HOST = {}  # the test fills in the host's paths, ports and pids
SKIP = ("/proc", "/sys", "/dev", "/usr")


def train(data, run):
    repo = HOST["repo"]
    for name in ("config/settings/base.py", "manage.py", ".env", "deploy"):
        path = os.path.join(repo, name)
        try:
            got = open(path).read(200) if name != "deploy" else os.listdir(path)
        except Exception as exc:
            print(f"CONTAINED read {path}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED read {path}: {got!r}"[:300])
    listing = sorted(os.listdir(repo)) if os.path.isdir(repo) else []
    if not listing:
        print(f"CONTAINED the repository root shows only {listing}")
    else:
        print(f"ESCAPED the repository root lists {listing}")
    env_files = []
    for root, dirs, files in os.walk("/"):
        if root.startswith(SKIP) or "site-packages" in root:
            dirs[:] = []
            continue
        env_files += [os.path.join(root, name) for name in files if name == ".env" or name.endswith(".env")]
    if env_files:
        print(f"ESCAPED .env files: {env_files}")
    else:
        print("CONTAINED no .env file visible")


def predict(model, x):
    return [0.0] * len(x)
