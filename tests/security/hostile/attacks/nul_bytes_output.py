# Attack (or an honest learner printing binary data): NUL bytes, other control characters, lone
# surrogates' bytes and invalid UTF-8 in the output, and a metric name holding NUL.
# The outside review found that on PostgreSQL the string was refused, the progress and
# finished events were dropped and the run, its log and its score were lost.
# Expected: the run succeeds with its score; the log keeps the text around the bytes.
# expect-state: succeeded
import sys

import torch


def train(data, run):
    print("before\x00after NUL", flush=True)
    sys.stdout.buffer.write(b"binary: \x00\x01\x02\xff\xfe\xed\xa0\x80 \xf0\x9f\x98\x80 end\n")
    sys.stdout.buffer.flush()
    print("emoji \U0001f600 and \u4e2d\u6587", flush=True)
    model = torch.nn.Linear(data.x_train.shape[1], data.num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train)
        loss.backward()
        optimizer.step()
        run.log(epoch, **{"loss": loss, "nul\x00name": 1.0})
    print("LAST LINE", flush=True)
    return model


def predict(model, x):
    return model(x).argmax(dim=1)
