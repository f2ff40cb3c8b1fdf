# Attack: read the password hashes (/etc/shadow, /etc/gshadow) and sudo rules (/etc/sudoers).
# Expected: the run succeeds; none of these files exists in the sandbox's generated /etc.
# expect-state: succeeded
# expect-log: CONTAINED


def train(data, run):
    for path in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers"):
        try:
            with open(path) as handle:
                text = handle.read()
        except Exception as exc:
            print(f"CONTAINED read {path}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED read {path}: {len(text)} characters")


def predict(model, x):
    return [0.0] * len(x)
