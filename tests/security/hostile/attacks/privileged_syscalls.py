# Attack: privileged system calls: set the clock, set the hostname, chroot, create a device node,
# disable ctrl-alt-del (reboot syscall).
# Expected: the run succeeds and every call fails with EPERM: the sandbox user has no capabilities.
# expect-state: succeeded
# expect-log: CONTAINED
import ctypes
import os
import socket
import stat

libc = ctypes.CDLL(None, use_errno=True)


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def libc_call(name, *args):
    if getattr(libc, name)(*args) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def train(data, run):
    if os.getuid() == 0:
        print("ESCAPED running as root; not trying privileged calls")
        return
    attempts = (
        ("clock_settime", lambda: libc_call("clock_settime", 0, ctypes.byref(Timespec(86400, 0)))),
        ("sethostname", lambda: socket.sethostname("owned")),
        ("chroot", lambda: os.chroot("/tmp")),
        ("mknod /job/mem", lambda: os.mknod("/job/mem", stat.S_IFCHR | 0o666, os.makedev(1, 1))),
        ("reboot(CAD_OFF)", lambda: libc_call("reboot", 0)),
    )
    for label, action in attempts:
        try:
            action()
        except Exception as exc:
            print(f"CONTAINED {label}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED {label} worked")
    return


def predict(model, x):
    return [0.0] * len(x)
