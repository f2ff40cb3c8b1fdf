# Attack: turn the supervisor's clean-up of the job folder (done as root, on the host) against the
# host: symlinks to a host folder of the test and to /etc, a hard link to the platform's code,
# folders without permissions (the clean-up chmods and retries), a fifo.
# Expected: the run succeeds; the clean-up removes the job folder only: the links themselves, not
# what they point to (the test checks its host folder and /etc afterwards), and the hard link fails.
# expect-state: succeeded
# expect-log: CONTAINED
import os

HOST = {}  # the test fills in the host's paths, ports and pids


def train(data, run):
    os.symlink(HOST["marker_dir"], "/job/host-folder")
    os.symlink("/etc", "/job/out/etc")
    os.symlink("/", "/job/root")
    os.makedirs("/job/locked/inner")
    with open("/job/locked/inner/file", "w") as handle:
        handle.write("x")
    os.symlink(HOST["marker_dir"], "/job/locked/inner/host")
    os.chmod("/job/locked/inner", 0)
    os.chmod("/job/locked", 0)
    os.mkfifo("/job/fifo")
    try:
        os.link("/opt/labrunner/harness.py", "/job/harness-link")
    except Exception as exc:
        print(f"CONTAINED hard link to the platform's code: {type(exc).__name__}: {exc}")
    else:
        print("ESCAPED hard-linked the platform's code into the job folder")


def predict(model, x):
    return [0.0] * len(x)
