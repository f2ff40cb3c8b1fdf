# Attack: become root: setuid(0), setgid(0), setgroups([0]), seteuid(0), and run a setuid-root
# program (su) if the image has one.
# Expected: the run succeeds and every call fails: an unprivileged uid with no capabilities at
# all (CapEff 0) and no_new_privs set, so setuid programs cannot raise privileges either.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import subprocess


def capabilities():
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    if ctypes.CDLL(None, use_errno=True).capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget failed")
    return {
        "CapEff": data[0].effective | data[1].effective << 32,
        "CapPrm": data[0].permitted | data[1].permitted << 32,
    }


def train(data, run):
    attempts = (
        ("setuid(0)", lambda: os.setuid(0)),
        ("setgid(0)", lambda: os.setgid(0)),
        ("setgroups([0])", lambda: os.setgroups([0])),
        ("seteuid(0)", lambda: os.seteuid(0)),
    )
    for label, action in attempts:
        try:
            action()
        except Exception as exc:
            print(f"CONTAINED {label}: {type(exc).__name__}: {exc}")
        else:
            print(f"ESCAPED {label} worked: uid {os.getuid()} euid {os.geteuid()}")
    caps = capabilities()  # capget(2): there is no /proc/self/status in the sandbox
    if caps["CapEff"] or caps["CapPrm"]:
        print(f"ESCAPED capabilities {caps}")
    else:
        print(f"CONTAINED no capabilities: {caps}")
    for program in ("/usr/bin/su", "/bin/su", "/usr/bin/sudo"):
        if os.path.exists(program):
            done = subprocess.run(
                [program, "root", "-c", "id -u"],
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
            if done.returncode == 0 and done.stdout.strip() == "0":
                print(f"ESCAPED {program} gave root")
            else:
                print(f"CONTAINED {program}: status {done.returncode}")


def predict(model, x):
    return [0.0] * len(x)
