# Attack: return a model whose unpickling runs code (it would create a marker file in a folder of
# the test on the host), and save it as /job/out/model.pt too, in case the platform ever loads
# saved models outside the sandbox. It also unpickles it itself, inside the sandbox.
# Expected: the run succeeds; the platform never pickles or loads the model (only predictions
# leave the sandbox), and inside the sandbox the host folder is out of reach: no marker.
# expect-state: succeeded
# expect-log: CONTAINED
import os
import pickle

import torch

HOST = {}  # the test fills in the host's paths, ports and pids


class Model:
    def __reduce__(self):
        marker = os.path.join(HOST["marker_dir"], f"model-{HOST['token']}")
        return (exec, (f"open({marker!r}, 'w').write('unpickled')",))


def train(data, run):
    model = Model()
    blob = pickle.dumps(model)
    torch.save(model, "out/model.pt")  # the harness runs in the job folder
    try:
        pickle.loads(blob)
    except Exception as exc:
        print(f"CONTAINED unpickling in the sandbox cannot reach the host: {type(exc).__name__}: {exc}")
    else:
        print("ESCAPED the unpickled model wrote into a host folder")
    return model


def predict(model, x):
    return [0.0] * len(x)
