# Attack: leave the job folder in a shape the clean-up cannot handle: a directory chain 5,000
# levels deep (paths far beyond PATH_MAX; shutil.rmtree recursed and raised RecursionError),
# 20,000 empty files, a folder without any permission, a fifo and a unix socket.
# The outside review found the first one crashing the job task (an uncounted "platform:" retry)
# and leaving the job folders on the worker's disk for good.
# Expected: the run succeeds; the supervisor removes the whole folder (the test checks that no
# job folder is left) and the worker runs the next solution.
# expect-state: succeeded
import os
import socket


def train(data, run):
    fd = os.open("/job", os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(5000):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)
    os.mkdir("/job/many")
    for i in range(20000):
        os.close(os.open(f"/job/many/{i}", os.O_WRONLY | os.O_CREAT, 0o600))
    os.makedirs("/job/closed/inner")
    os.chmod("/job/closed", 0)
    os.mkfifo("/job/fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind("/job/socket")
    print("left a 5000-level chain, 20000 files, a closed folder, a fifo and a socket")


def predict(model, x):
    return [0.0] * len(x)
