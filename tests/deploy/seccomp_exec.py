"""Load a seccomp profile of the Kubernetes/OCI form with libseccomp, then exec a command.

What a container runtime does with ``seccompProfile: Localhost`` before it starts the container's
process, for the rules ``deploy/seccomp`` uses (names, an action, an errno; no argument filters).
Usage: ``python seccomp_exec.py PROFILE.json COMMAND [ARGS...]``. Loading a filter needs
no_new_privs (or CAP_SYS_ADMIN), as in a container.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000


def action(name: str, errno: int) -> int:
    if name == "SCMP_ACT_ALLOW":
        return SCMP_ACT_ALLOW
    if name == "SCMP_ACT_ERRNO":
        return SCMP_ACT_ERRNO | (errno & 0xFFFF)
    raise ValueError(f"unsupported action {name}")


def load(profile: dict) -> None:
    libseccomp = ctypes.CDLL(ctypes.util.find_library("seccomp"), use_errno=True)
    libseccomp.seccomp_init.restype = ctypes.c_void_p
    libseccomp.seccomp_init.argtypes = [ctypes.c_uint32]
    libseccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    libseccomp.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    libseccomp.seccomp_load.argtypes = [ctypes.c_void_p]
    context = libseccomp.seccomp_init(action(profile["defaultAction"], profile.get("defaultErrnoRet", 1)))
    for rule in profile["syscalls"]:
        rule_action = action(rule["action"], rule.get("errnoRet", 1))
        for name in rule["names"]:
            number = libseccomp.seccomp_syscall_resolve_name(name.encode())
            if number < 0:  # not a system call of this architecture (runtimes skip it too)
                continue
            if libseccomp.seccomp_rule_add(context, rule_action, number, 0) != 0:
                raise OSError(f"seccomp_rule_add {name}")
    if libseccomp.seccomp_load(context) != 0:
        raise OSError("seccomp_load failed: is no_new_privs set?")


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        load(json.load(handle))
    os.execvp(sys.argv[2], sys.argv[2:])  # noqa: S606 - the command under test, no shell
