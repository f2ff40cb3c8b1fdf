# Attack: look for the worker's secrets in the environment: os.environ, /proc/self/environ and the
# environment the sandbox's first process started with (/proc/1/environ): database URL, broker
# URL, Django's secret key, tokens, cloud keys, and a canary secret the test put in the worker's
# own environment.
# Expected: the run succeeds; the sandbox starts from an empty environment (bwrap --clearenv)
# plus HOME, PATH, locale, TMPDIR and thread counts, so nothing is found.
# expect-state: succeeded
# expect-log: CONTAINED
import os

HOST = {}  # the test fills in the host's paths, ports and pids
MARKERS = ("DATABASE", "SECRET", "BROKER", "CELERY", "REDIS", "TOKEN", "PASSW", "AWS", "DJANGO", "CANARY", "://")


def environments():
    yield "os.environ", dict(os.environ)
    for path in ("/proc/self/environ", "/proc/1/environ"):
        try:
            with open(path, "rb") as handle:
                pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item]
        except OSError as exc:
            print(f"cannot read {path}: {exc}")
            continue
        yield path, {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def train(data, run):
    found = []
    for where, env in environments():
        print(f"{where}: {sorted(env)}")
        for key, value in env.items():
            text = f"{key}={value}"
            if any(marker in text.upper() for marker in MARKERS) or HOST["canary"] in text:
                found.append(f"{where} {key}")
    if found:
        print(f"ESCAPED secrets in the environment: {found}")
    else:
        print("CONTAINED no secret in the environment")


def predict(model, x):
    return [0.0] * len(x)
