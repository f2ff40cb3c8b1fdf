# Attack: leave a daemon behind: double fork, setsid, and sleep past the end of the run, then try
# to write into the job folder and print (to reach the next run, or its output).
# Expected: the run succeeds and the daemon dies with the sandbox (the harness is its pid
# namespace's init; the cgroup is killed): the test finds no process of the sandbox's uids left.
# expect-state: succeeded
import os
import time


def train(data, run):
    reader, writer = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(writer, str(os.getpid()).encode())
            time.sleep(5)
            try:
                with open("/job/daemon-was-here", "w") as handle:
                    handle.write("still alive")
            finally:
                print("ESCAPED the daemon outlived its run", flush=True)
            time.sleep(3600)
        os._exit(0)
    print(f"daemon started, pid {os.read(reader, 16).decode()} in the sandbox")


def predict(model, x):
    return [0.0] * len(x)
