# Attack: write the predictions file as a pickled object array whose elements run code when
# unpickled (create a marker file in a folder of the test on the host), then exit with status 0:
# if the supervisor (root, on the host) ever unpickled it, the marker would appear.
# Expected: the run fails: the supervisor loads predictions with allow_pickle=False; no marker.
# expect-state: failed
# expect-reason: error: the predictions file cannot be read: Object arrays cannot be loaded when allow_pickle=False
import os

import numpy as np

HOST = {}  # the test fills in the host's paths, ports and pids


class Payload:
    def __reduce__(self):
        marker = os.path.join(HOST["marker_dir"], f"unpickled-{HOST['token']}")
        return (exec, (f"open({marker!r}, 'w').write('unpickled on the host')",))


def train(data, run):
    with np.load("/job/dataset.npz") as archive:
        rows = len(archive["x_test"])
    payload = np.empty(rows, dtype=object)
    payload[:] = [Payload() for _ in range(rows)]
    np.save("/job/out/predictions.npy", payload, allow_pickle=True)
    os._exit(0)


def predict(model, x):
    return [0.0] * len(x)
