# Attack: list the host's accounts through /etc/passwd, /etc/group and the pwd module.
# Expected: the run succeeds and only two accounts exist: root (no shell) and the sandbox user.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import pwd


def train(data, run):
    with open("/etc/passwd") as handle:
        names = [line.split(":")[0] for line in handle if line.strip()]
    with open("/etc/group") as handle:
        groups = [line.split(":")[0] for line in handle if line.strip()]
    accounts = sorted(entry.pw_name for entry in pwd.getpwall())
    me = pwd.getpwuid(os.getuid()).pw_name
    if names == ["root", "lab"] and groups == ["root", "lab"] and accounts == ["lab", "root"] and me == "lab":
        print("CONTAINED /etc/passwd names only root and the sandbox user 'lab'")
    else:
        print(f"ESCAPED accounts: passwd={names} group={groups} pwd={accounts} me={me}"[:500])


def predict(model, x):
    return [0.0] * len(x)
