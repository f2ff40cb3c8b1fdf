# Attack: create new namespaces with ctypes unshare(): a user namespace (root inside it would
# unlock mounts and more), with a mount namespace, and network and pid namespaces.
# Expected: the run succeeds and every unshare fails: bwrap --disable-userns forbids nested user
# namespaces, and the others need capabilities the sandbox user does not have.
# expect-state: succeeded
# expect-log: CONTAINED
import ctypes
import os

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x10000000, 0x40000000, 0x20000000
libc = ctypes.CDLL(None, use_errno=True)


def try_in_child(label, flags):
    child = os.fork()
    if child == 0:
        if libc.unshare(flags) == 0:
            print(f"ESCAPED unshare({label}) worked", flush=True)
        else:
            print(f"CONTAINED unshare({label}): {os.strerror(ctypes.get_errno())}", flush=True)
        os._exit(0)
    os.waitpid(child, 0)


def train(data, run):
    try_in_child("CLONE_NEWUSER|CLONE_NEWNS", CLONE_NEWUSER | CLONE_NEWNS)
    try_in_child("CLONE_NEWUSER", CLONE_NEWUSER)
    try_in_child("CLONE_NEWNET", CLONE_NEWNET)
    try_in_child("CLONE_NEWPID", CLONE_NEWPID)


def predict(model, x):
    return [0.0] * len(x)
