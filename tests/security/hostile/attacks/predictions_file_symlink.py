# Attack: make the predictions file a symlink to a host file holding perfect predictions (the test
# plants one: the true labels): the sandbox cannot read it, but the supervisor, root on the host,
# would if it followed the link, and the run would score 1.0.
# Expected: the run fails: the supervisor opens every part of the path with O_NOFOLLOW.
# expect-state: failed
# expect-reason-prefix: error: the predictions file cannot be read:
import os

HOST = {}  # the test fills in the host's paths, ports and pids


def train(data, run):
    os.symlink(HOST["perfect_predictions"], "/job/out/predictions.npy")
    os._exit(0)


def predict(model, x):
    return [0.0] * len(x)
