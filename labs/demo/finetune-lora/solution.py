"""Reference solution of the "finetune-lora" lab.

Start from the pretrained TinyLM (shipped in run.files), freeze all of its weights, and
learn only

- low-rank adapters (LoRA) on the query and value projections of every attention layer:
  W x + (alpha / rank) · B A x, with A (rank × d) random and B (d × rank) zero at the start,
  so that training starts from exactly the pretrained model;
- a new linear head that maps the state after the last character to the two classes.

Each review is given to the model as in the pretraining text, followed by " , ": there the
language model had to guess what the reviewer did next ("we will come back" or "we will
not come back"), so its state at that point already says a lot about the mood of the review,
for all 48 adjectives, not only for the 16 of the labelled reviews. With rank 4 that is
4,802 trained parameters (adapters and head) against 344,832 frozen ones.
"""

import math

import tinylm  # shipped with the lab (run.files is on sys.path)
import torch
from torch import nn

SUFFIX = " , "  # what follows a review in the pretraining text, before what the reviewer did next


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update: base(x) + (alpha / rank) · x Aᵀ Bᵀ."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad = False
        self.A = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.B = nn.Parameter(torch.zeros(base.out_features, rank))  # zero: no change at the start
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale


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


def add_lora(lm: tinylm.TinyLM, rank: int, alpha: float) -> None:
    for p in lm.parameters():
        p.requires_grad = False  # the whole pretrained model is frozen...
    for block in lm.blocks:  # ...and only the adapters learn
        block.attn.q = LoRALinear(block.attn.q, rank, alpha)
        block.attn.v = LoRALinear(block.attn.v, rank, alpha)


def accuracy(model: ReviewClassifier, texts: list[str], labels: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        return (model.classify(texts).argmax(dim=1).cpu() == labels.cpu()).float().mean().item()


def train(data, run):
    device = run.device
    epochs = int(run.params.get("epochs", 40))
    lr = float(run.params.get("lr", 0.003))
    rank = int(run.params.get("rank", 4))
    alpha = float(run.params.get("alpha", 8.0))
    batch_size = int(run.params.get("batch_size", 16))

    lm = tinylm.load_pretrained(run.files / "pretrained.pt", device=device)
    add_lora(lm, rank, alpha)
    model = ReviewClassifier(lm, data.num_classes).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
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
        scheduler.step()
        metrics = {"loss": total_loss / len(texts)}
        if data.x_val is not None:
            metrics["val_accuracy"] = accuracy(model, data.x_val, data.y_val)
        run.log(epoch, **metrics)
    return model


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return model.classify(list(x)).argmax(dim=1).cpu()  # class ids: 0 = negative, 1 = positive
