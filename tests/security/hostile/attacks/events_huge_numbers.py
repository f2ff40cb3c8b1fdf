# Attack: break the supervisor's event reader with well-formed JSON it cannot handle: a
# 400-digit integer as a step and as a metric (float() of it raises OverflowError), negative
# and huge numbers, nesting thousands deep, very long strings, unknown kinds, another run's ids.
# The outside review found the first one crashing the job task: the run was retried and ended
# "platform: worker lost", outside the learner's quota, with two wall limits of free compute.
# Expected: each bad line is dropped; the run trains on, succeeds with a score from the site,
# and its good metrics reach the curve.
# expect-state: succeeded
import json
import os
import stat

import torch


def events_fd():
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
    raise RuntimeError("no events pipe found")


def train(data, run):
    fd = events_fd()
    huge = "9" * 400
    lines = [
        '{"kind":"metrics","step":' + huge + ',"t":0,"metrics":{"loss":1}}',
        '{"kind":"metrics","step":1,"t":' + huge + ',"metrics":{"loss":' + huge + "}}",
        '{"kind":"metrics","step":-' + huge + ',"t":-1,"metrics":{"loss":-1e308}}',
        '{"kind":"metrics","step":1,"metrics":' + "[" * 20000 + "]" * 20000 + "}",
        '{"kind":"failure","reason":' + json.dumps("x" * 100000) + "}",
        '{"kind":"finished","result":{"state":"succeeded","predictions":[1,1,1]},"run_id":1,"token":"x"}',
        '{"kind":["metrics"],"step":{"a":1},"metrics":[1,2,3]}',
        '{"kind":"phase","phase":' + huge + "}",
    ]
    for line in lines:
        os.write(fd, (line + "\n").encode())
    model = torch.nn.Linear(data.x_train.shape[1], data.num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train)
        loss.backward()
        optimizer.step()
        run.log(epoch, loss=loss)
    print("wrote 8 hostile event lines, then trained")
    return model


def predict(model, x):
    return model(x).argmax(dim=1)
