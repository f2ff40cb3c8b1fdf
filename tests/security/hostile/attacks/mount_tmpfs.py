# Attack: change the sandbox's file tree with ctypes mount()/umount2(): mount a tmpfs, bind-mount
# the job folder over the platform's code, remount / read-write, unmount /opt/labrunner/site-packages.
# Expected: the run succeeds and every call fails with EPERM (no CAP_SYS_ADMIN).
# expect-state: succeeded
# expect-log: CONTAINED
import ctypes
import os

MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
libc = ctypes.CDLL(None, use_errno=True)


def call(name, *args):
    if getattr(libc, name)(*args) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def train(data, run):
    os.makedirs("/job/mnt", exist_ok=True)
    attempts = (
        ("mount tmpfs on /job/mnt", lambda: call("mount", b"tmpfs", b"/job/mnt", b"tmpfs", 0, None)),
        (
            "bind /job over the runtime",
            lambda: call("mount", b"/job", b"/opt/labrunner/site-packages", None, MS_BIND, None),
        ),
        ("remount / read-write", lambda: call("mount", None, b"/", None, MS_REMOUNT, None)),
        ("remount /usr read-write", lambda: call("mount", None, b"/usr", None, MS_REMOUNT | MS_BIND, None)),
        ("umount /opt/labrunner/site-packages", lambda: call("umount2", b"/opt/labrunner/site-packages", 2)),
    )
    for label, action in attempts:
        try:
            action()
        except Exception as exc:
            print(f"CONTAINED {label}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED {label} worked")


def predict(model, x):
    return [0.0] * len(x)
