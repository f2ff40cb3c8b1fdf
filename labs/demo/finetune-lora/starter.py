"""Starter code for the "finetune-lora" lab.

The training loop is complete, but it trains TinyLM from scratch: random weights, and only
the 128 labelled training reviews to learn from, which use 16 of the 48 adjectives of the
test. It runs and answers, yet barely better than a coin on the test set. The TODOs say how
to start from the pretrained model instead and fine-tune it with LoRA.
"""

import tinylm  # shipped with the lab (run.files is on sys.path)
import torch
from torch import nn

SUFFIX = ""  # TODO: end each review as in the pretraining text (see the lab's description)


# TODO: a LoRALinear(nn.Module) that wraps a frozen nn.Linear `base` and adds a trainable
#       low-rank update: base(x) + (alpha / rank) * (x @ A.T @ B.T), A (rank × in) random, B (out × rank) zero.


class ReviewClassifier(nn.Module):
    def __init__(self, lm: tinylm.TinyLM, n_classes: int) -> None:
        super().__init__()
        self.lm = lm
        self.head = nn.Linear(lm.tok.embedding_dim, n_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        states = self.lm.hidden(ids)  # (N, T, d)
        last = states[torch.arange(len(ids), device=ids.device), lengths - 1]  # after the last character
        return self.head(last)

    def classify(self, texts: list[str]) -> torch.Tensor:
        device = next(self.parameters()).device
        ids, lengths = tinylm.encode_batch([text + SUFFIX for text in texts], device=device)
        return self(ids, lengths)


def accuracy(model: ReviewClassifier, texts: list[str], labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model.classify(texts).argmax(dim=1).cpu() == labels.cpu()).float().mean().item()


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 40))
    lr = float(run.params.get("lr", 0.003))
    rank = int(run.params.get("rank", 4))  # noqa: F841 - for your LoRA layers
    alpha = float(run.params.get("alpha", 8.0))  # noqa: F841
    batch_size = int(run.params.get("batch_size", 16))

    # TODO: start from the pretrained weights: tinylm.load_pretrained(run.files / "pretrained.pt", device=device)
    lm = tinylm.TinyLM().to(device)
    # TODO: freeze every parameter of lm (requires_grad = False), then wrap block.attn.q and
    #       block.attn.v of every block in lm.blocks with your LoRALinear.
    model = ReviewClassifier(lm, data.num_classes).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()

    texts, labels = data.x_train, data.y_train.to(device)  # list[str], (N,) class ids
    ids, lengths = tinylm.encode_batch([text + SUFFIX for text in texts], device=device)
    for epoch in range(1, epochs + 1):
        if run.time_left() < 5:  # keep a few seconds for predict()
            break
        model.train()
        total_loss = 0.0
        for batch in torch.randperm(len(texts), device=device).split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(ids[batch], lengths[batch]), labels[batch])
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(batch)
        metrics = {"loss": total_loss / len(texts)}
        if data.x_val is not None:
            metrics["val_accuracy"] = accuracy(model, data.x_val, data.y_val)
        run.log(epoch, **metrics)
    return model


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model.classify(list(x)).argmax(dim=1).cpu()  # class ids: 0 = negative, 1 = positive
